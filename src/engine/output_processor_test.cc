// output_processor_test.cc — stop strings across token boundaries, holdback, UTF-8.
#include "engine/output_processor.h"

#include <gtest/gtest.h>

#include "engine/engine_test_util.h"

namespace maas {
namespace {

std::string run(const std::string& text, OutputOptions opts, bool* stopped, std::vector<std::string>* deltas) {
  const Tokenizer& tok = *testing::engine_test_model().tokenizer;
  OutputProcessor p(tok, std::move(opts));
  *stopped = false;
  std::string out;
  for (int32_t id : tok.encode(text, false, false)) {
    *stopped = p.push(id, true, true);
    SequenceDelta d;
    p.take(&d);
    if (!d.text.empty()) deltas->push_back(d.text);
    out += d.text;
    if (*stopped) break;
  }
  p.finish();
  SequenceDelta d;
  p.take(&d);
  return out + d.text;
}

TEST(OutputProcessor, StopStringNeverEmitted) {
  bool stopped;
  std::vector<std::string> deltas;
  std::string out = run("alpha beta gamma delta", OutputOptions{{"ta gam"}, false, true}, &stopped, &deltas);
  EXPECT_TRUE(stopped);
  EXPECT_EQ(out, "alpha be");
  for (const std::string& d : deltas) EXPECT_EQ(d.find("gam"), std::string::npos);
  deltas.clear();
  out = run("alpha beta gamma delta", OutputOptions{{"ta gam"}, true, true}, &stopped, &deltas);
  EXPECT_EQ(out, "alpha beta gam");
}

TEST(OutputProcessor, HeldBackPrefixIsReleasedWhenItDoesNotMatch) {
  bool stopped;
  std::vector<std::string> deltas;
  std::string out = run("alpha beta gamma", OutputOptions{{"gamma ray"}, false, true}, &stopped, &deltas);
  EXPECT_FALSE(stopped);
  EXPECT_EQ(out, "alpha beta gamma");
}

TEST(OutputProcessor, MultiByteCharactersStayWhole) {
  bool stopped;
  std::vector<std::string> deltas;
  std::string out = run("naïve 日本語 🙂 ok", OutputOptions{}, &stopped, &deltas);
  EXPECT_EQ(out, "naïve 日本語 🙂 ok");
  for (const std::string& d : deltas) EXPECT_EQ(d.find("\xEF\xBF\xBD"), std::string::npos);
}

}  // namespace
}  // namespace maas
