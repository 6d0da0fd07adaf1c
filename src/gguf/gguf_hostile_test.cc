// gguf_hostile_test.cc — TESTPLAN J1-J4: truncated and hostile headers fail with an error
// naming the problem, quickly, without large allocations (run under the asan-ubsan preset too).
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "gguf/gguf.h"
#include "gguf/gguf_writer.h"

namespace maas {
namespace {

std::string header(uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
  std::string b;
  GgufWriter::put_u32(b, 0x46554747);
  GgufWriter::put_u32(b, version);
  GgufWriter::put_u64(b, n_tensors);
  GgufWriter::put_u64(b, n_kv);
  return b;
}

Status parse(const std::string& b) {
  auto start = std::chrono::steady_clock::now();
  auto f = GgufFile::parse(reinterpret_cast<const uint8_t*>(b.data()), b.size());
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(ms, 1000) << "parsing took too long";
  return f.ok() ? Status::Ok() : f.status();
}

void expect_error(const std::string& b, const std::string& fragment) {
  Status s = parse(b);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(fragment), std::string::npos) << "message: " << s.message();
}

std::string tensor_info(const std::string& name, std::vector<uint64_t> ne, uint32_t type, uint64_t offset) {
  std::string b;
  GgufWriter::put_string(b, name);
  GgufWriter::put_u32(b, static_cast<uint32_t>(ne.size()));
  for (uint64_t d : ne) GgufWriter::put_u64(b, d);
  GgufWriter::put_u32(b, type);
  GgufWriter::put_u64(b, offset);
  return b;
}

TEST(GgufHostile, NotGguf) {
  expect_error("", "not a GGUF file");
  expect_error("GGU", "not a GGUF file");
  expect_error("PK\x03\x04 this is a zip", "bad magic");
}

TEST(GgufHostile, Versions) {
  expect_error(header(1, 0, 0), "version 1");
  expect_error(header(99, 0, 0), "unknown GGUF version 99");
  EXPECT_TRUE(parse(header(3, 0, 0)).ok());
}

TEST(GgufHostile, HugeCounts) {  // J1
  expect_error(header(3, 1ull << 63, 0), "tensor count");
  expect_error(header(3, 0, 1ull << 63), "metadata count");
  expect_error(header(3, ~0ull, ~0ull), "count");
}

TEST(GgufHostile, HugeStringAndArrayLengths) {  // J1
  std::string b = header(3, 0, 1);
  GgufWriter::put_u64(b, ~0ull);  // key length SIZE_MAX
  b.resize(b.size() + 64, 'x');
  expect_error(b, "truncated");

  b = header(3, 0, 1);
  GgufWriter::put_string(b, "k");
  GgufWriter::put_u32(b, 8);  // string
  GgufWriter::put_u64(b, 1ull << 62);
  b.resize(b.size() + 64, 'x');
  expect_error(b, "truncated");

  b = header(3, 0, 1);
  GgufWriter::put_string(b, "k");
  GgufWriter::put_u32(b, 9);  // array
  GgufWriter::put_u32(b, 4);  // of u32
  GgufWriter::put_u64(b, 1ull << 62);
  expect_error(b, "more than the file holds");

  b = header(3, 0, 1);
  GgufWriter::put_string(b, "k");
  GgufWriter::put_u32(b, 9);
  GgufWriter::put_u32(b, 8);  // of strings
  GgufWriter::put_u64(b, 1ull << 62);
  expect_error(b, "more than the file holds");
}

TEST(GgufHostile, BadValueTypes) {
  std::string b = header(3, 0, 1);
  GgufWriter::put_string(b, "k");
  GgufWriter::put_u32(b, 13);
  expect_error(b, "unknown metadata value type 13");

  b = header(3, 0, 1);
  GgufWriter::put_string(b, "k");
  GgufWriter::put_u32(b, 9);
  GgufWriter::put_u32(b, 0xFFFFFFFF);
  GgufWriter::put_u64(b, 1);
  expect_error(b, "unknown array element type");

  b = header(3, 0, 1);
  GgufWriter::put_string(b, "k");
  GgufWriter::put_u32(b, 7);
  b.push_back(5);  // bool 5
  expect_error(b, "bool");
}

TEST(GgufHostile, DuplicateKey) {
  GgufWriter w;
  w.add_u32("k", 1);
  w.add_u32("k", 2);
  std::vector<uint8_t> v = w.serialize();
  expect_error(std::string(v.begin(), v.end()), "duplicate metadata key");
}

TEST(GgufHostile, TensorInfos) {  // J2
  auto one_tensor = [](const std::string& info) {
    std::string b = header(3, 1, 0) + info;
    b.resize(b.size() + 4096, '\0');
    return b;
  };
  expect_error(one_tensor(tensor_info("t", {}, 0, 0)), "0 dimensions");
  expect_error(one_tensor(tensor_info("t", {1, 1, 1, 1, 1}, 0, 0)), "5 dimensions");
  std::string b = header(3, 1, 0);
  GgufWriter::put_string(b, "t");
  GgufWriter::put_u32(b, 0xFFFFFFFF);
  b.resize(b.size() + 64, '\0');
  expect_error(b, "dimensions");
  expect_error(one_tensor(tensor_info("t", {1ull << 40, 1ull << 40}, 0, 0)), "overflows");
  expect_error(one_tensor(tensor_info("t", {~0ull}, 0, 0)), "invalid dimension");
  expect_error(one_tensor(tensor_info("t", {0}, 0, 0)), "invalid dimension");
  expect_error(one_tensor(tensor_info("t", {32}, 4, 0)), "unknown type 4");
  expect_error(one_tensor(tensor_info("t", {32}, 1000, 0)), "unknown type 1000");
  expect_error(one_tensor(tensor_info("t", {33}, 8, 0)), "block size");
  expect_error(one_tensor(tensor_info("t", {32}, 0, 7)), "not aligned");
  expect_error(one_tensor(tensor_info("t", {32}, 0, ~0ull - 31)), "outside the file");
  expect_error(one_tensor(tensor_info("t", {1ull << 40}, 0, 0)), "outside the file");
  expect_error(one_tensor(tensor_info("t", {32}, 0, 4096)), "outside the file");
  EXPECT_TRUE(parse(one_tensor(tensor_info("t", {32}, 0, 0))).ok());
  std::string two = header(3, 2, 0) + tensor_info("t", {8}, 0, 0) + tensor_info("t", {8}, 0, 32);
  two.resize(two.size() + 4096, '\0');
  expect_error(two, "duplicate tensor");
}

TEST(GgufHostile, Alignment) {  // J3
  for (uint32_t al : {0u, 3u, 1u << 31}) {
    GgufWriter w;
    w.add_u32("general.alignment", al);
    std::vector<uint8_t> v = w.serialize();
    expect_error(std::string(v.begin(), v.end()), "general.alignment");
  }
  GgufWriter w;
  w.add_i32("general.alignment", 32);
  std::vector<uint8_t> v = w.serialize();
  expect_error(std::string(v.begin(), v.end()), "must be u32");
}

TEST(GgufHostile, EveryTruncationFailsCleanly) {
  GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_string_array("tokenizer.ggml.tokens", {"a", "bb"});
  std::vector<uint8_t> t(64, 1);
  w.add_tensor("w", {16}, GgmlType::kF32, t);
  std::vector<uint8_t> v = w.serialize();
  ASSERT_TRUE(parse(std::string(v.begin(), v.end())).ok());
  for (size_t n = 0; n + 1 < v.size(); ++n) {
    Status s = parse(std::string(v.begin(), v.begin() + static_cast<long>(n)));
    // The file ends in tensor data: every proper prefix is missing something.
    EXPECT_FALSE(s.ok()) << "prefix " << n;
  }
}

}  // namespace
}  // namespace maas
