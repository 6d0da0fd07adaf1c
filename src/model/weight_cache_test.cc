// weight_cache_test.cc — the shared weights cache (load_options.h, weight_cache.h): a second load
// maps the file the first one built and computes bit-identical logits to a load without the cache,
// for every re-laid type; files for another model, variant or version, and truncated or corrupt
// files, are rebuilt, never used; concurrent loads (threads, processes) build the file once; a load
// that cannot use the cache makes a private copy.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "base/thread_pool.h"
#include "gguf/gguf_writer.h"
#include "model/llama.h"
#include "model/synthetic_model.h"
#include "model/weight_cache.h"
#include "model/weight_cache_format.h"

namespace maas {
namespace {

namespace fs = std::filesystem;

constexpr int kVocab = 512;
const std::string kShaA(64, 'a');
const std::string kShaB = "B" + std::string(63, 'b');

// This process's scratch directory (several test binaries may run at once), removed at exit.
const std::string& scratch() {
  static const std::string dir = [] {
    std::string d = ::testing::TempDir() + "/maas_weight_cache_test_" + std::to_string(::getpid());
    fs::create_directories(d);
    return d;
  }();
  return dir;
}
class RemoveScratch : public ::testing::Environment {
 public:
  void TearDown() override { fs::remove_all(scratch()); }
};
const auto* const kRemoveScratch = ::testing::AddGlobalTestEnvironment(new RemoveScratch);

std::string write_model(const std::string& type, bool tied) {
  SyntheticModelOptions o;
  o.name = "cache-test-" + type;
  o.n_embd = 256;
  o.n_layer = 2;
  o.n_head = 4;
  o.n_head_kv = 2;
  o.n_ff = 512;
  o.n_ctx = 256;
  o.type = type;
  o.tied_embeddings = tied;
  o.seed = 11;
  o.n_threads = 2;
  o.out_scale = 0.5f;
  GgufWriter w;
  EXPECT_TRUE(add_synthetic_llama(o, kVocab, w).ok());
  const std::string path = scratch() + "/" + type + (tied ? "" : "_untied") + ".gguf";
  EXPECT_TRUE(w.write(path).ok());
  return path;
}

// A fresh, empty cache directory for the running test.
std::string fresh_dir() {
  const ::testing::TestInfo* t = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(t->test_suite_name()) + "_" + t->name();
  for (char& c : name) c = std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  const std::string dir = scratch() + "/" + name;
  fs::remove_all(dir);
  return dir;
}

LoadOptions cache_options(const std::string& dir, const std::string& sha = kShaA) {
  LoadOptions o;
  o.weights_cache_dir = dir;
  o.weights_sha256 = sha;
  return o;
}

std::unique_ptr<LlamaModel> load(const std::string& path, const LoadOptions& o = {}) {
  auto m = LlamaModel::load(path, o);
  EXPECT_TRUE(m.ok()) << m.status().to_string();
  return m.ok() ? std::move(*m) : nullptr;
}

// Every logit of a 12-token prompt (the prompt kernels) and of 4 single-token steps (decode).
std::vector<float> logits(LlamaModel& model) {
  auto cache = model.allocate_kv_cache({.n_blocks = 4, .block_size = 8});
  EXPECT_TRUE(cache.ok());
  std::vector<int32_t> table = {1, 3, 0, 2};
  std::vector<float> out(static_cast<size_t>(kVocab) * 16);
  Batch prefill;
  for (int i = 0; i < 12; ++i) prefill.tokens.push_back((i * 37 + 5) % kVocab);
  prefill.seqs.push_back({table.data(), 4, 0, 12, true});
  model.forward(prefill, **cache, out.data());
  for (int t = 12; t < 16; ++t) {
    Batch step;
    step.tokens.push_back((t * 53 + 1) % kVocab);
    step.seqs.push_back({table.data(), 4, t, 1, false});
    model.forward(step, **cache, out.data() + static_cast<size_t>(t) * kVocab);
  }
  return out;
}

void expect_same_bits(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::memcmp(&got[i], &want[i], sizeof(float)) != 0) {
      ADD_FAILURE() << "logit " << i << " is " << got[i] << ", without the cache " << want[i];
      return;
    }
  }
}

// The path of the file mapped at p in this process ("" if none).
std::string mapping_of(const void* p) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  const auto a = reinterpret_cast<uintptr_t>(p);
  while (std::getline(maps, line)) {
    uintptr_t lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx", &lo, &hi) != 2 || a < lo || a >= hi) continue;
    const size_t slash = line.find('/');
    return slash == std::string::npos ? "" : line.substr(slash);
  }
  return "";
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

class WeightCacheTest : public ::testing::Test {
 protected:
  // The Q4_0 model and its logits without the cache; skips where this CPU re-lays nothing.
  void SetUp() override {
    if (model_.empty()) {
      model_ = write_model("q4_0", true);
      std::unique_ptr<LlamaModel> plain = load(model_);
      ASSERT_NE(plain, nullptr);
      relaid_ = plain->weights().relaid != RelaidStorage::kNone;
      want_ = logits(*plain);
    }
    if (!relaid_) GTEST_SKIP() << "the " << kernel_variant() << " kernels re-lay no matrix: no cache to share";
    dir_ = fresh_dir();
  }
  // Loads with the cache; expects `how` and the logits of the load without it.
  void expect_load(const LoadOptions& o, RelaidStorage how) {
    std::unique_ptr<LlamaModel> m = load(model_, o);
    ASSERT_NE(m, nullptr);
    EXPECT_EQ(static_cast<int>(m->weights().relaid), static_cast<int>(how));
    expect_same_bits(logits(*m), want_);
  }
  static std::string model_;
  static bool relaid_;
  static std::vector<float> want_;
  std::string dir_;
};
std::string WeightCacheTest::model_;
bool WeightCacheTest::relaid_ = false;
std::vector<float> WeightCacheTest::want_;

struct TypeCase {
  std::string type;
  bool tied;
};
void PrintTo(const TypeCase& c, std::ostream* os) { *os << c.type << (c.tied ? "" : " untied"); }

class WeightCacheTypeTest : public ::testing::TestWithParam<TypeCase> {};

TEST_P(WeightCacheTypeTest, SecondLoadMapsTheBuiltFileWithIdenticalLogits) {
  const std::string path = write_model(GetParam().type, GetParam().tied);
  std::unique_ptr<LlamaModel> plain = load(path);
  ASSERT_NE(plain, nullptr);
  if (plain->weights().relaid == RelaidStorage::kNone) GTEST_SKIP() << "nothing re-laid on " << kernel_variant();
  const std::vector<float> want = logits(*plain);
  const LoadOptions o = cache_options(fresh_dir());
  const std::string file = weights_cache_path(o);
  EXPECT_EQ(fs::path(file).filename().string(), kShaA + "." + kernel_variant() + ".v1.relaid");

  std::unique_ptr<LlamaModel> built = load(path, o);
  ASSERT_NE(built, nullptr);
  EXPECT_EQ(built->weights().relaid, RelaidStorage::kCacheBuilt);
  ASSERT_TRUE(fs::exists(file));
  std::unique_ptr<LlamaModel> mapped = load(path, o);
  ASSERT_NE(mapped, nullptr);
  EXPECT_EQ(mapped->weights().relaid, RelaidStorage::kCacheMapped);
  // The re-laid matrices are the file's pages, not a copy.
  EXPECT_EQ(fs::path(mapping_of(mapped->weights().layers[1].w_down.data)), fs::path(file).lexically_normal());
  EXPECT_EQ(mapped->weights().layers[1].w_down.layout, WeightLayout::kRows16);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(mapped->weights().token_embd.data) % 64, 0u);
  expect_same_bits(logits(*built), want);
  expect_same_bits(logits(*mapped), want);
}

INSTANTIATE_TEST_SUITE_P(ReLaidTypes, WeightCacheTypeTest,
                         ::testing::Values(TypeCase{"q8_0", true}, TypeCase{"q4_0", true}, TypeCase{"q4_k", true},
                                           TypeCase{"q6_k", true}, TypeCase{"q4_k_m", true}, TypeCase{"q8_0", false}),
                         [](const ::testing::TestParamInfo<TypeCase>& i) {
                           return i.param.type + (i.param.tied ? "" : "_untied");
                         });

TEST_F(WeightCacheTest, AnotherSha256HasItsOwnFile) {
  expect_load(cache_options(dir_, kShaA), RelaidStorage::kCacheBuilt);
  expect_load(cache_options(dir_, kShaB), RelaidStorage::kCacheBuilt);
  EXPECT_NE(weights_cache_path(cache_options(dir_, kShaA)), weights_cache_path(cache_options(dir_, kShaB)));
  expect_load(cache_options(dir_, kShaB), RelaidStorage::kCacheMapped);
}

TEST_F(WeightCacheTest, FileOfAnotherSha256IsRebuilt) {
  expect_load(cache_options(dir_, kShaA), RelaidStorage::kCacheBuilt);
  const std::string b = weights_cache_path(cache_options(dir_, kShaB));
  fs::copy_file(weights_cache_path(cache_options(dir_, kShaA)), b);  // A's file under B's name
  expect_load(cache_options(dir_, kShaB), RelaidStorage::kCacheBuilt);
  RelaidHeader h;
  std::memcpy(&h, read_bytes(b).data(), sizeof(h));
  EXPECT_EQ(std::string(h.sha256, 64), "b" + std::string(63, 'b'));
  expect_load(cache_options(dir_, kShaB), RelaidStorage::kCacheMapped);
}

// A file whose sealed header names another variant or version (renamed, or an older maas).
TEST_F(WeightCacheTest, FileOfAnotherVariantOrVersionIsRebuilt) {
  const LoadOptions o = cache_options(dir_);
  const std::string file = weights_cache_path(o);
  EXPECT_NE(file.find("." + kernel_variant() + ".v1."), std::string::npos);
  for (int forgery = 0; forgery < 2; ++forgery) {
    expect_load(o, forgery == 0 ? RelaidStorage::kCacheBuilt : RelaidStorage::kCacheMapped);
    std::string bytes = read_bytes(file);
    RelaidHeader h;
    std::memcpy(&h, bytes.data(), sizeof(h));
    if (forgery == 0) {
      std::memset(h.variant, 0, sizeof(h.variant));
      std::memcpy(h.variant, "avx2", 4);
      if (kernel_variant() == "avx2") std::memcpy(h.variant, "avx512", 6);
    } else {
      h.version = 0;
    }
    std::memcpy(bytes.data(), &h, sizeof(h));
    seal_relaid_header(reinterpret_cast<uint8_t*>(bytes.data()));
    write_bytes(file, bytes);
    expect_load(o, RelaidStorage::kCacheBuilt);
  }
}

TEST_F(WeightCacheTest, TruncatedOrCorruptFileIsRebuilt) {
  const LoadOptions o = cache_options(dir_);
  const std::string file = weights_cache_path(o);
  expect_load(o, RelaidStorage::kCacheBuilt);
  const std::string good = read_bytes(file);
  RelaidHeader h;
  std::memcpy(&h, good.data(), sizeof(h));
  std::vector<std::pair<const char*, std::string>> bad = {
      {"empty", ""},
      {"shorter than a header", good.substr(0, 100)},
      {"header without its entries", good.substr(0, 200)},
      {"half", good.substr(0, good.size() / 2)},
      {"one byte short", good.substr(0, good.size() - 1)},
      {"one byte long", good + "x"},
      {"garbage", std::string(good.size(), '\x5a')},
  };
  auto flipped = [&](size_t at) {
    std::string b = good;
    b[at] = static_cast<char>(b[at] ^ 0x10);
    return b;
  };
  bad.push_back({"flipped bit in the SHA-256", flipped(offsetof(RelaidHeader, sha256) + 3)});
  bad.push_back({"flipped bit in an entry", flipped(sizeof(RelaidHeader) + sizeof(RelaidEntry) + 20)});
  RelaidEntry first, last;
  std::memcpy(&first, good.data() + sizeof(RelaidHeader), sizeof(first));
  bad.push_back({"flipped bit in the first matrix", flipped(h.data_offset + first.offset + 5)});
  std::memcpy(&last, good.data() + sizeof(RelaidHeader) + sizeof(RelaidEntry) * (h.n_entries - 1), sizeof(last));
  bad.push_back({"flipped bit in the last matrix", flipped(h.data_offset + last.offset + last.bytes - 1)});
  for (const auto& [what, bytes] : bad) {
    SCOPED_TRACE(what);
    write_bytes(file, bytes);
    expect_load(o, RelaidStorage::kCacheBuilt);
    EXPECT_EQ(read_bytes(file), good);
  }
}

TEST_F(WeightCacheTest, ConcurrentLoadsBuildItOnce) {
  // flock locks belong to an open file description, so threads of one process exclude each
  // other as processes do.
  const LoadOptions o = cache_options(dir_);
  constexpr int kLoads = 3;
  std::vector<std::unique_ptr<LlamaModel>> models(kLoads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kLoads; ++i) threads.emplace_back([&, i] { models[i] = load(model_, o); });
  for (std::thread& t : threads) t.join();
  int built = 0, mapped = 0;
  for (const auto& m : models) {
    ASSERT_NE(m, nullptr);
    built += m->weights().relaid == RelaidStorage::kCacheBuilt;
    mapped += m->weights().relaid == RelaidStorage::kCacheMapped;
    expect_same_bits(logits(*m), want_);
  }
  EXPECT_EQ(built, 1);
  EXPECT_EQ(mapped, kLoads - 1);
}

TEST_F(WeightCacheTest, TwoProcessesBuildItOnce) {
  const LoadOptions o = cache_options(dir_);
  std::vector<pid_t> children;
  for (int i = 0; i < 2; ++i) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {  // exit status: how the weights were placed, + 16 if a logit differs
      std::unique_ptr<LlamaModel> m = load(model_, o);
      if (m == nullptr) ::_exit(100);
      const std::vector<float> got = logits(*m);
      const bool same = std::memcmp(got.data(), want_.data(), got.size() * sizeof(float)) == 0;
      ::_exit(static_cast<int>(m->weights().relaid) + (same ? 0 : 16));
    }
    children.push_back(pid);
  }
  std::vector<int> codes;
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    codes.push_back(WEXITSTATUS(status));
  }
  std::sort(codes.begin(), codes.end());
  EXPECT_EQ(codes, (std::vector<int>{static_cast<int>(RelaidStorage::kCacheBuilt), static_cast<int>(RelaidStorage::kCacheMapped)}));
}

TEST_F(WeightCacheTest, BuilderThatHoldsTheLockTooLongMeansAPrivateCopy) {
  LoadOptions o = cache_options(dir_);
  o.weights_cache_wait_ms = 100;
  fs::create_directories(dir_);
  const int fd = ::open((weights_cache_path(o) + ".lock").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);  // "another process" is building it
  expect_load(o, RelaidStorage::kPrivate);
  EXPECT_FALSE(fs::exists(weights_cache_path(o)));
  ::close(fd);
  expect_load(o, RelaidStorage::kCacheBuilt);
}

TEST_F(WeightCacheTest, CrashedBuildersTemporaryFileIsRemoved) {
  const LoadOptions o = cache_options(dir_);
  fs::create_directories(dir_);
  const std::string stale = weights_cache_path(o) + ".tmp.Xy12Zq";
  write_bytes(stale, "half a file");
  expect_load(o, RelaidStorage::kCacheBuilt);
  EXPECT_FALSE(fs::exists(stale));
}

TEST_F(WeightCacheTest, UnusableDirectoryMeansAPrivateCopy) {
  const std::string not_a_dir = dir_ + "_file";
  write_bytes(not_a_dir, "x");
  expect_load(cache_options(not_a_dir + "/cache"), RelaidStorage::kPrivate);
}

TEST_F(WeightCacheTest, InterleaveOffUsesNoCache) {
  ::setenv("MAAS_INTERLEAVE", "0", 1);
  std::unique_ptr<LlamaModel> m = load(model_, cache_options(dir_));
  ::unsetenv("MAAS_INTERLEAVE");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->weights().relaid, RelaidStorage::kNone);
  EXPECT_FALSE(fs::exists(dir_));
}

TEST(LoadOptionsTest, Validation) {
  LoadOptions o;
  EXPECT_TRUE(o.validate().ok());
  o.weights_cache_dir = "/tmp/x";
  EXPECT_EQ(o.validate().code(), StatusCode::kInvalidArgument);
  o.weights_sha256 = kShaB;
  EXPECT_TRUE(o.validate().ok());
  for (std::string bad : {std::string(63, 'a'), std::string(65, 'a'), std::string(63, 'a') + "g", std::string("../../etc/passwd")}) {
    o.weights_sha256 = bad;
    EXPECT_EQ(o.validate().code(), StatusCode::kInvalidArgument) << bad;
  }
  o.weights_cache_dir.clear();
  o.weights_sha256 = kShaA;
  EXPECT_EQ(o.validate().code(), StatusCode::kInvalidArgument);
  o.weights_sha256 = "nope";
  o.weights_cache_dir = "/tmp/x";
  auto m = LlamaModel::load("/does/not/matter.gguf", o);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kInvalidArgument);
}

TEST(Checksum64Test, EveryByteCounts) {
  std::vector<uint8_t> b(1000);
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(i * 7);
  const uint64_t h = checksum64(b.data(), b.size());
  for (size_t i = 0; i < b.size(); ++i) {
    b[i] ^= 1;
    EXPECT_NE(checksum64(b.data(), b.size()), h) << i;
    b[i] ^= 1;
  }
  EXPECT_NE(checksum64(b.data(), 999), checksum64(b.data(), 1000));
  EXPECT_EQ(checksum64(b.data(), b.size()), h);
}

}  // namespace
}  // namespace maas
