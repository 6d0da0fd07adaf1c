// api_test_util.cc — shared fixtures of the api tests.
#include "api/api_test_util.h"

namespace maas::api::testing {

ParseOptions default_options(const Tokenizer& tokenizer) {
  ParseOptions o;
  o.tokenizer = &tokenizer;
  o.n_vocab = tokenizer.n_vocab();
  o.n_ctx = 4096;
  o.model_name = "llama-test";
  o.request_id = "req-1";
  o.response_id = "cmpl-test";
  o.created = 1700000000;
  return o;
}

}  // namespace maas::api::testing
