// Tests of the JSON recogniser and the constrained-decoding mask.
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sampling/json_constraint.h"
#include "sampling/json_matcher.h"

namespace maas {
namespace {

using Kind = JsonNode::Kind;

bool accepts(const JsonNode* root, const std::string& text) {
  JsonMatcher m(root);
  return m.feed(text) && m.complete();
}

// Every proper prefix of a valid text is accepted byte by byte.
void expect_valid(const JsonNode* root, const std::string& text) {
  JsonMatcher m(root);
  for (size_t i = 0; i < text.size(); ++i) {
    ASSERT_TRUE(m.feed(static_cast<uint8_t>(text[i]))) << text << " refused at byte " << i;
  }
  EXPECT_TRUE(m.complete()) << text;
}

TEST(JsonMatcher, AcceptsAnyJsonValue) {
  const JsonNode* any = json_any_value();
  for (const char* t : {"{}", "[]", "0", "-0", "12", "-1.5e+3", "3E7", "0.25", "true", "false", "null", "\"\"",
                        "\"a\\\"b\\\\c\\/\\b\\f\\n\\r\\t\\u00e9\"", "{\"a\": [1, {\"b\": null}], \"c\": \"x\"}",
                        " [ 1 ,\n 2 ] ", "\"caf\xc3\xa9\"", "[[[[]]]]"}) {
    expect_valid(any, t);
  }
}

TEST(JsonMatcher, RefusesInvalidJson) {
  const JsonNode* any = json_any_value();
  for (const char* t : {"{\"a\":1,}", "[1,]", "01", "{\"a\" 1}", "\"\x01\"", "tru", "{\"a\":1}}", "1.", "-", "1e",
                        "\"\\q\"", "\"\\u12g4\"", "{,}", "[,1]", "{1:2}", "nul", "+1", ".5", "[1 2]", "{\"a\"}",
                        "'a'", "1 2"}) {
    EXPECT_FALSE(accepts(any, t)) << t;
  }
}

TEST(JsonMatcher, StringsAreValidUtf8AndLengthsCountCharacters) {
  const JsonNode* any = json_any_value();
  expect_valid(any, "\"\xf0\x9f\x98\x80 \xe2\x82\xac \xc3\xa9\"");
  expect_valid(any, "{\"\xc3\xa9\": 1}");
  for (const char* t : {"\"\x80\"", "\"\xc3\"", "\"\xc3x\"", "\"\xe0\x80\x80\"", "\"\xed\xa0\x80\"",
                        "\"\xf4\x90\x80\x80\"", "\"\xc0\xaf\"", "\"\xff\"", "{\"\xc3\": 1}"}) {
    EXPECT_FALSE(accepts(any, t)) << t;
  }
  JsonGrammar g;
  JsonNode* s = g.add(Kind::kString);
  s->max_length = 2;
  EXPECT_TRUE(accepts(s, "\"\xf0\x9f\x98\x80\xc3\xa9\""));
  EXPECT_TRUE(accepts(s, "\"\\n\\u00e9\""));
  EXPECT_FALSE(accepts(s, "\"\xf0\x9f\x98\x80\xc3\xa9x\""));
}

TEST(JsonMatcher, ObjectGrammarNeedsAnObject) {
  const JsonNode* root = json_object_grammar()->root;
  expect_valid(root, "{\"k\": [1, \"two\", {\"three\": 3}]}");
  EXPECT_FALSE(accepts(root, "[1]"));
  EXPECT_FALSE(accepts(root, "\"s\""));
  EXPECT_FALSE(accepts(root, "{\"a\":1"));  // not complete
}

TEST(JsonMatcher, LimitsWhitespaceAndDepth) {
  const JsonNode* any = json_any_value();
  const auto spaced = [](int n) {
    std::string t = "[";
    t.append(static_cast<size_t>(n), ' ');
    t.append("1]");
    return t;
  };
  EXPECT_TRUE(accepts(any, spaced(JsonMatcher::kMaxWhitespace)));
  EXPECT_FALSE(accepts(any, spaced(JsonMatcher::kMaxWhitespace + 1)));
  const int d = JsonMatcher::kMaxDepth;
  EXPECT_TRUE(accepts(any, std::string(d, '[') + std::string(d, ']')));
  EXPECT_FALSE(accepts(any, std::string(d + 1, '[') + std::string(d + 1, ']')));
  EXPECT_FALSE(accepts(any, std::string(JsonMatcher::kMaxNumberChars + 1, '1')));
  EXPECT_TRUE(accepts(any, "1e99"));
  EXPECT_FALSE(accepts(any, "1e308"));
}

// {"id": integer (required), "tag": "x" | "y", "vals": [number] (at most 2),
//  "name": string of 1..3 characters | null}; no other keys.
struct TestSchema {
  JsonGrammar g;
  TestSchema() {
    JsonNode* root = g.add(Kind::kObject);
    JsonNode* id = g.add(Kind::kInteger);
    JsonNode* tag = g.add(Kind::kEnum);
    tag->literals = {"\"x\"", "\"y\""};
    JsonNode* vals = g.add(Kind::kArray);
    vals->items = g.add(Kind::kNumber);
    vals->max_items = 2;
    JsonNode* name_str = g.add(Kind::kString);
    name_str->min_length = 1;
    name_str->max_length = 3;
    JsonNode* name = g.add(Kind::kUnion);
    name->alternatives = {name_str, g.add(Kind::kNull)};
    root->keys = {"id", "tag", "vals", "name"};
    root->values = {id, tag, vals, name};
    root->required = 1;
    g.root = root;
  }
};

TEST(JsonMatcher, FollowsASchema) {
  TestSchema s;
  const JsonNode* r = s.g.root;
  for (const char* t : {"{\"id\":1}", "{\"tag\":\"x\",\"id\":-3}", "{\"id\":0,\"vals\":[]}", "{\"vals\":[1.5,2],\"id\":7}",
                        "{\"id\":1,\"name\":null}", "{\"id\":1,\"name\":\"abc\"}", "{\"id\":1,\"name\":\"\\n\xc3\xa9\"}"}) {
    expect_valid(r, t);
  }
  for (const char* t : {"{\"tag\":\"x\"}", "{\"id\":1.5}", "{\"id\":1,\"other\":2}", "{\"id\":1,\"id\":2}",
                        "{\"vals\":[1,2,3],\"id\":1}", "{\"id\":1,\"tag\":\"z\"}", "{\"id\":1,\"name\":\"\"}",
                        "{\"id\":1,\"name\":\"abcd\"}", "{\"id\":1,\"vals\":[\"a\"]}", "{\"id\":true}", "{}", "[]"}) {
    EXPECT_FALSE(accepts(r, t)) << t;
  }
}

TEST(JsonMatcher, TaggedObjectChoosesTheSecondValuesSchemaByTheFirst) {
  // {"name": "add", "parameters": {"a": integer}} or {"name": "echo", "parameters": {"text": string}}
  JsonGrammar g;
  JsonNode* call = g.add(Kind::kObject);
  JsonNode* names = g.add(Kind::kEnum);
  names->literals = {"\"add\"", "\"echo\""};
  JsonNode* add = g.add(Kind::kObject);
  add->keys = {"a"};
  add->values = {g.add(Kind::kInteger)};
  add->required = 1;
  JsonNode* echo = g.add(Kind::kObject);
  echo->keys = {"text"};
  echo->values = {g.add(Kind::kString)};
  echo->required = 1;
  call->keys = {"name", "parameters"};
  call->values = {names, json_any_value()};
  call->variants = {add, echo};
  call->ordered = true;
  call->required = 3;
  g.root = call;
  expect_valid(call, "{\"name\": \"add\", \"parameters\": {\"a\": 2}}");
  expect_valid(call, "{\"name\":\"echo\",\"parameters\":{\"text\":\"hi\"}}");
  EXPECT_FALSE(accepts(call, "{\"name\": \"add\", \"parameters\": {\"text\": \"hi\"}}"));
  EXPECT_FALSE(accepts(call, "{\"name\": \"echo\", \"parameters\": {\"a\": 2}}"));
  EXPECT_FALSE(accepts(call, "{\"parameters\": {\"a\": 2}, \"name\": \"add\"}"));  // ordered
  EXPECT_FALSE(accepts(call, "{\"name\": \"sub\", \"parameters\": {}}"));
  EXPECT_FALSE(accepts(call, "{\"name\": \"add\"}"));
}

TEST(JsonMatcher, EnumsAndNumbersEndWhereTheNextByteSaysSo) {
  JsonGrammar g;
  JsonNode* e = g.add(Kind::kEnum);
  e->literals = {"1", "12", "{\"a\":[true]}"};
  g.root = e;
  JsonMatcher m(e);
  ASSERT_TRUE(m.feed("1"));
  EXPECT_TRUE(m.complete());
  EXPECT_FALSE(m.closed());  // "12" may still follow
  ASSERT_TRUE(m.feed("2"));
  EXPECT_TRUE(m.closed());
  EXPECT_FALSE(accepts(e, "123"));
  EXPECT_TRUE(accepts(e, "{\"a\":[true]}"));
  EXPECT_FALSE(accepts(e, "{\"a\": [true]}"));  // literals match as written (compact)
  JsonMatcher n(json_any_value());
  ASSERT_TRUE(n.feed("42"));
  EXPECT_TRUE(n.complete());
  EXPECT_FALSE(n.closed());
  ASSERT_TRUE(n.feed(" "));
  EXPECT_TRUE(n.closed());
}

// A small vocabulary: every printable ASCII byte (as real vocabularies have every byte), and
// JSON-ish and text pieces of several bytes.
std::shared_ptr<const ConstraintVocab> test_vocab(std::vector<std::string>* pieces_out) {
  std::vector<std::string> pieces;
  for (char c = ' '; c <= '~'; ++c) pieces.emplace_back(1, c);
  pieces.emplace_back("\n");
  for (const char* p : {"{\"", "\":", "\",", "\"}", "id", "tag",
                        "vals", "name", "null", "true", "1,", "[1", "2]", "\"x\"", " \"", "\": ", "}\n", "ab",
                        "abcd", "\xc3\xa9", "\\n", "\"\"", "12.5", "\xc3", "\xa9", "\xe2\x82", "\xac",
                        "\xf0\x9f\x98\x80", "<eos>", "<ctl>"}) {
    pieces.push_back(p);
  }
  std::vector<bool> usable(pieces.size(), true);
  usable[pieces.size() - 1] = false;  // a control token
  usable[pieces.size() - 2] = false;  // eos is handled apart
  *pieces_out = pieces;
  return std::make_shared<ConstraintVocab>(pieces, usable, std::vector<int32_t>{static_cast<int32_t>(pieces.size() - 2)});
}

// Random walks through the masked vocabulary: the mask is exactly the set of tokens that a copy
// of the matcher accepts, and every finished walk is JSON that follows the grammar.
void random_walks(std::shared_ptr<const JsonGrammar> grammar, bool test_schema) {
  std::vector<std::string> pieces;
  auto vocab = test_vocab(&pieces);
  const auto n = static_cast<int32_t>(pieces.size());
  const int32_t eos = n - 2, ctl = n - 1;
  std::mt19937 rng(7);
  int closed_walks = 0;
  for (int walk = 0; walk < 300; ++walk) {
    JsonConstraint c(grammar, vocab);
    JsonMatcher shadow(grammar->root);
    std::string text;
    for (int step = 0; step < 60; ++step) {
      std::vector<float> logits(static_cast<size_t>(n), 0.0f);
      c.mask(logits.data(), n);
      std::vector<int32_t> allowed;
      for (int32_t id = 0; id < n; ++id) {
        JsonMatcher m = shadow;
        bool ok;
        if (id == eos) {
          ok = shadow.complete();
        } else if (id == ctl) {
          ok = false;
        } else {
          ok = m.feed(pieces[static_cast<size_t>(id)]);
        }
        ASSERT_EQ(ok, std::isfinite(logits[static_cast<size_t>(id)])) << "walk " << walk << " text '" << text
                                                                      << "' token '" << pieces[static_cast<size_t>(id)] << "'";
        if (ok) allowed.push_back(id);
      }
      ASSERT_FALSE(allowed.empty()) << text;  // a grammar state always has a way on
      const int32_t t = allowed[std::uniform_int_distribution<size_t>(0, allowed.size() - 1)(rng)];
      ASSERT_TRUE(c.accept(t));
      if (t == eos) break;
      shadow.feed(pieces[static_cast<size_t>(t)]);
      text += pieces[static_cast<size_t>(t)];
      if (c.closed()) break;
    }
    if (!c.complete()) continue;
    ++closed_walks;
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << text;
    ASSERT_TRUE(j.is_object()) << text;
    if (!test_schema) continue;
    ASSERT_TRUE(j.contains("id") && j["id"].is_number_integer()) << text;
    for (const auto& [k, v] : j.items()) {
      ASSERT_TRUE(k == "id" || k == "tag" || k == "vals" || k == "name") << text;
      if (k == "tag") {
        EXPECT_TRUE(v == "x" || v == "y") << text;
      }
      if (k == "vals") {
        EXPECT_TRUE(v.is_array() && v.size() <= 2) << text;
      }
      if (k == "name") {
        EXPECT_TRUE(v.is_null() || (v.is_string() && !v.get<std::string>().empty())) << text;
      }
    }
  }
  EXPECT_GT(closed_walks, 30);  // the walks do finish objects, so the checks above ran
}

TEST(JsonConstraint, MaskIsExactlyTheTokensTheMatcherAcceptsForASchema) {
  TestSchema s;
  random_walks(std::shared_ptr<const JsonGrammar>(std::shared_ptr<void>(), &s.g), true);
}

TEST(JsonConstraint, MaskIsExactlyTheTokensTheMatcherAcceptsForAnyObject) {
  random_walks(json_object_grammar(), false);
}

TEST(JsonConstraint, RefusesTokensTheGrammarDoesNot) {
  std::vector<std::string> pieces;
  auto vocab = test_vocab(&pieces);
  JsonConstraint c(json_object_grammar(), vocab);
  const auto index = [&](const std::string& p) {
    return static_cast<int32_t>(std::find(pieces.begin(), pieces.end(), p) - pieces.begin());
  };
  EXPECT_FALSE(c.accept(index("[")));
  EXPECT_FALSE(c.accept(index("<eos>")));
  EXPECT_FALSE(c.accept(index("<ctl>")));
  EXPECT_TRUE(c.accept(index("{\"")));
  EXPECT_TRUE(c.accept(index("ab")));
  EXPECT_TRUE(c.accept(index("\": ")));
  EXPECT_TRUE(c.accept(index("null")));
  EXPECT_FALSE(c.closed());
  EXPECT_TRUE(c.accept(index("}\n")));
  EXPECT_TRUE(c.closed());
  EXPECT_TRUE(c.accept(index("<eos>")));
}

}  // namespace
}  // namespace maas
