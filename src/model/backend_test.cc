// backend_test.cc — choosing a backend by name without a model: what `--device` gives in this
// build (CPU-only or CUDA) on this machine, the GPU memory fraction's bounds, and KV block sizes.
#include <gtest/gtest.h>

#include "model/backend.h"

namespace maas {
namespace {

TEST(Backend, CpuIsAlwaysThere) {
  auto be = make_backend({.device = "cpu", .n_threads = 1});
  ASSERT_TRUE(be.ok()) << be.status().to_string();
  EXPECT_EQ((*be)->name(), "cpu");
  Backend::DeviceMemory mem;
  EXPECT_FALSE((*be)->device_memory(&mem));
  EXPECT_EQ((*be)->kv_cache_budget_bytes(), -1);
  LlamaConfig c;
  c.n_layer = 1;
  c.n_head = c.n_head_kv = 1;
  c.head_dim = 32;
  auto cache = (*be)->allocate_kv_cache(c, {.n_blocks = 1, .block_size = 4});
  ASSERT_TRUE(cache.ok()) << cache.status().to_string();
  Batch batch;
  (*be)->begin_step(batch, **cache);
  EXPECT_TRUE((*be)->finish_step().ok());
}

// Without CUDA in the build, cuda is Unimplemented naming the option; with it, on a machine
// without a device, Unavailable. Where a device is present, cuda:0 loads and a missing index fails.
TEST(Backend, CudaNamesWhatIsMissing) {
  auto be = make_backend({.device = "cuda"});
#ifdef MAAS_HAVE_CUDA
  if (be.ok()) {
    EXPECT_EQ((*be)->name(), "cuda:0");
    EXPECT_EQ(make_backend({.device = "cuda:99"}).status().code(), StatusCode::kUnavailable);
  } else {
    EXPECT_EQ(be.status().code(), StatusCode::kUnavailable) << be.status().to_string();
    EXPECT_NE(be.status().message().find("no CUDA device"), std::string::npos) << be.status().message();
  }
#else
  EXPECT_EQ(be.status().code(), StatusCode::kUnimplemented);
  EXPECT_NE(be.status().message().find("MAAS_CUDA"), std::string::npos) << be.status().message();
#endif
  EXPECT_EQ(make_backend({.device = "tpu"}).status().code(), StatusCode::kInvalidArgument);
}

TEST(Backend, GpuMemoryFractionIsChecked) {
  for (double f : {0.0, -0.5, 1.01}) {
    LoadOptions o;
    o.gpu_memory_fraction = f;
    EXPECT_EQ(o.validate().code(), StatusCode::kInvalidArgument) << f;
  }
  LoadOptions o;
  o.gpu_memory_fraction = 1.0;
  EXPECT_TRUE(o.validate().ok());
}

TEST(Backend, KvBlockBytes) {
  LlamaConfig c;
  c.n_layer = 32;
  c.n_head_kv = 8;
  c.head_dim = 128;
  // Llama 3 8B: 16 positions x 32 layers x 1024 x (K and V)
  EXPECT_EQ(kv_block_bytes(c, 16, KvType::kF32), size_t{16} * 32 * 1024 * 2 * 4);
  EXPECT_EQ(kv_block_bytes(c, 16, KvType::kF16), size_t{16} * 32 * 1024 * 2 * 2);
  EXPECT_EQ(kv_block_bytes(c, 16, KvType::kQ8_0), size_t{16} * 32 * 1024 / 32 * 34 * 2);
}

}  // namespace
}  // namespace maas
