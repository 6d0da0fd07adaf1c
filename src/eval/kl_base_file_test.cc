// kl_base_file_test.cc — the base file: byte layout (llama.cpp's), round trip, hostile files.
#include "eval/kl_base_file.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>

#include "eval/kl_divergence.h"

namespace maas::eval {
namespace {

constexpr int32_t kVocab = 7;  // odd: exercises the pad word

KlBaseHeader small_header(int32_t n_chunk) {
  KlBaseHeader h;
  h.n_ctx = 6;  // scored positions 3 and 4: two records per chunk
  h.n_vocab = kVocab;
  h.n_chunk = n_chunk;
  for (int32_t i = 0; i < h.n_ctx * n_chunk; ++i) h.tokens.push_back(i % kVocab);
  return h;
}

std::vector<float> logits_for(int record) {
  std::vector<float> l(kVocab);
  for (int v = 0; v < kVocab; ++v) l[static_cast<size_t>(v)] = std::sin(1.3f * static_cast<float>(v + 3 * record)) * 4.f;
  l[5] = -40.f;  // far below the top: reads back as the e^-16 floor
  return l;
}

std::string write_file(const KlBaseHeader& h, int n_records) {
  std::string path = ::testing::TempDir() + "/kl_base_" + std::to_string(n_records) + ".bin";
  auto w = KlBaseWriter::create(path, h);
  EXPECT_TRUE(w.ok()) << w.status().to_string();
  for (int r = 0; r < n_records; ++r) EXPECT_TRUE((*w)->append(logits_for(r).data()).ok());
  Status s = (*w)->finish();
  EXPECT_EQ(s.ok(), n_records == h.n_scored() * h.n_chunk) << s.to_string();
  return path;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(KlBaseFile, LayoutIsLlamaCpps) {
  KlBaseHeader h = small_header(2);
  std::string bytes = slurp(write_file(h, 4));
  EXPECT_EQ(kl_record_words(kVocab), 12u);  // 2 floats + 7 codes + 1 pad
  ASSERT_EQ(bytes.size(), 20u + 4 * 12 + 4 * 24);
  EXPECT_EQ(bytes.substr(0, 8), "_logits_");
  int32_t fields[3];
  std::memcpy(fields, bytes.data() + 8, 12);
  EXPECT_EQ(fields[0], 6);
  EXPECT_EQ(fields[1], kVocab);
  EXPECT_EQ(fields[2], 2);
  int32_t tok[12];
  std::memcpy(tok, bytes.data() + 20, sizeof(tok));
  for (int i = 0; i < 12; ++i) EXPECT_EQ(tok[i], i % kVocab);
  float head[2];  // first record: scale, min log-prob
  std::memcpy(head, bytes.data() + 20 + 48, 8);
  std::vector<float> l = logits_for(0);
  const float mx = *std::max_element(l.begin(), l.end());
  EXPECT_NEAR(head[0], 16.f / 65535.f, 1e-9);  // the range is clamped to 16 below the top
  double z = 0;
  for (float x : l) z += std::exp(x - mx);
  EXPECT_NEAR(head[1], -16.0 - std::log(z), 1e-5);
}

TEST(KlBaseFile, RoundTripsWithinTheCodesStep) {
  KlBaseHeader h = small_header(2);
  std::string path = write_file(h, 4);
  auto r = KlBaseReader::open(path);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ((*r)->header().tokens, h.tokens);
  EXPECT_EQ((*r)->header().n_scored(), 2);
  std::vector<double> got(kVocab), want(kVocab), raw(kVocab);
  for (int rec = 0; rec < 4; ++rec) {
    ASSERT_TRUE((*r)->next(got.data()).ok());
    std::vector<float> l = logits_for(rec);
    for (int v = 0; v < kVocab; ++v) raw[static_cast<size_t>(v)] = l[static_cast<size_t>(v)];
    log_softmax(raw.data(), kVocab, want.data());
    for (int v = 0; v < kVocab; ++v) {
      if (v == 5) {  // the floor: 16 below the top token's log-probability
        EXPECT_NEAR(got[5], *std::max_element(got.begin(), got.end()) - 16.0, 1e-3);
      } else {
        EXPECT_NEAR(got[static_cast<size_t>(v)], want[static_cast<size_t>(v)], 0.5 * 16 / 65535.0 + 1e-5) << rec << " " << v;
      }
    }
  }
  EXPECT_FALSE((*r)->next(got.data()).ok());  // no fifth record
}

TEST(KlBaseFile, RejectsForeignTruncatedAndUnfinishedFiles) {
  KlBaseHeader h = small_header(2);
  write_file(h, 3);  // finish() reports the missing record
  std::string path = write_file(h, 4);
  std::string bytes = slurp(path);
  auto write_bytes = [](const std::string& p, const std::string& b) { std::ofstream(p, std::ios::binary) << b; };

  std::string cut = ::testing::TempDir() + "/kl_cut.bin";
  write_bytes(cut, bytes.substr(0, bytes.size() - 1));
  auto r = KlBaseReader::open(cut);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("size"), std::string::npos) << r.status().to_string();

  std::string bad = bytes;
  bad[0] = 'X';
  write_bytes(cut, bad);
  EXPECT_FALSE(KlBaseReader::open(cut).ok());

  bad = bytes;
  const int32_t huge = 1 << 30;
  std::memcpy(bad.data() + 16, &huge, 4);  // n_chunk
  write_bytes(cut, bad);
  EXPECT_FALSE(KlBaseReader::open(cut).ok());

  bad = bytes;
  const int32_t outside = kVocab;
  std::memcpy(bad.data() + 20, &outside, 4);  // a token outside the vocabulary
  write_bytes(cut, bad);
  EXPECT_FALSE(KlBaseReader::open(cut).ok());

  EXPECT_FALSE(KlBaseReader::open(::testing::TempDir() + "/missing.bin").ok());
  KlBaseHeader wrong = h;
  wrong.tokens.pop_back();
  EXPECT_FALSE(KlBaseWriter::create(cut, wrong).ok());
}

}  // namespace
}  // namespace maas::eval
