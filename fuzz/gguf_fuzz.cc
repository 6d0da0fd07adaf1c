// gguf_fuzz.cc — libFuzzer harness for the GGUF reader (TESTPLAN J1-J5, OSS-Fuzz's
// fuzz_load_model pattern): parse arbitrary bytes, then touch everything a loader would.
#include <cstddef>
#include <cstdint>

#include "gguf/gguf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto f = maas::GgufFile::parse(data, size);
  if (!f.ok()) return 0;
  const maas::GgufFile& g = **f;
  for (const maas::GgufKv& kv : g.kvs()) {
    (void)maas::gguf_value_summary(kv.value);
    if (kv.value.type == maas::GgufValueType::kArray) {
      (void)g.get_string_array(kv.key);
      (void)g.get_int_array(kv.key);
      (void)g.get_float_array(kv.key);
    }
  }
  volatile uint8_t sink = 0;
  for (const maas::GgufTensorInfo& t : g.tensors()) {
    if (t.n_bytes > 0) sink = sink + t.data[0] + t.data[t.n_bytes - 1];
  }
  return 0;
}
