// chat_template_hostile_test.cc — TESTPLAN J5: a malicious tokenizer.chat_template gets an
// error (or renders harmlessly), never code execution, a hang or a crash. SSTI attribute
// chains, endless loops, output bombs, string/list doubling, deep nesting, recursion,
// namespace cycles, and a fuzz-like sweep of random and truncated templates.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "chat/chat_template.h"

namespace maas {
namespace {

StatusOr<std::string> render(const std::string& source) {
  ASSIGN_OR_RETURN(ChatTemplate t, ChatTemplate::parse(source));
  return t.render({{"system", "s"}, {"user", "hello"}}, true, "<s>", "</s>");
}

// Renders with a wall-clock bound: a hostile template must fail fast.
Status render_status(const std::string& source) {
  auto start = std::chrono::steady_clock::now();
  StatusOr<std::string> out = render(source);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 30.0) << source;  // generous: sanitizer builds are slow
  return out.ok() ? Status::Ok() : out.status();
}

TEST(ChatTemplateHostile, SstiAttributeChainsAreRefused) {
  for (const char* t : {
           "{{ ''.__class__.__mro__[1].__subclasses__() }}",
           "{{ messages.__class__ }}",
           "{{ messages[0]['__class__'] }}",
           "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
           "{{ self.__init__.__globals__ }}",
           "{{ raise_exception.__globals__ }}",
           "{{ namespace.__init__ }}",
           "{% set ns = namespace() %}{% set ns.__dict__ = 1 %}",
           "{{ messages[0].get('__class__') }}",
           "{{ (messages | first).__getitem__('role') }}",
       }) {
    Status st = render_status(t);
    EXPECT_FALSE(st.ok()) << t;
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << t << " -> " << st.to_string();
  }
}

TEST(ChatTemplateHostile, HostObjectsAreUnreachable) {
  // No lookups beyond the given data: unknown names are undefined, and calling them fails.
  EXPECT_EQ(*render("[{{ config }}{{ request }}{{ lipsum }}{{ os }}{{ self }}]"), "[]");
  for (const char* t : {"{{ lipsum() }}", "{{ config.items() }}", "{{ range.__call__ }}", "{{ ''.format() }}",
                        "{{ messages.append(1) }}", "{{ messages.pop() }}", "{{ ''.encode() }}"}) {
    Status st = render_status(t);
    EXPECT_FALSE(st.ok()) << t;
  }
}

TEST(ChatTemplateHostile, LoopLimits) {
  for (const char* t : {
           "{% for i in range(1000000000) %}x{% endfor %}",
           "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
           "{% for a in range(1000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}",
           "{% for i in range(99999) %}{% for m in messages %}{% for c in 'abc' %}{% endfor %}{% endfor %}{% endfor %}",
       }) {
    Status st = render_status(t);
    EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << t << " -> " << st.to_string();
  }
}

TEST(ChatTemplateHostile, OutputAndMemoryBombs) {
  for (const char* t : {
           "{% for i in range(90000) %}{{ 'x' * 100 }}{% endfor %}",
           "{% set s = 'xxxxxxxxxxxxxxxx' %}{% for i in range(40) %}{% set s = s + s %}{% endfor %}{{ s | length }}",
           "{% set ns = namespace(s='ab') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}",
           "{% set ns = namespace(l=[1]) %}{% for i in range(64) %}{% set ns.l = ns.l + ns.l %}{% endfor %}",
           "{{ 'x' * 100000000 }}",
           "{{ ('x' * 1000000) | replace('', 'yy') }}",
           "{{ ('x\n' * 500000) | indent(1000) }}",
           "{% set ns = namespace(l=[]) %}{% for i in range(2000) %}{% set ns.l = ns.l + [i] %}{% endfor %}"
           "{% for i in range(2000) %}{% set x = ns.l | tojson %}{% endfor %}",
           "{% set ns = namespace(l=[1]) %}{% for i in range(30) %}{% set ns.l = [ns.l, ns.l] %}{% endfor %}{{ ns.l }}",
           "{% set ns = namespace(l=[1]) %}{% for i in range(30) %}{% set ns.l = [ns.l, ns.l] %}{% endfor %}"
           "{% for i in range(1000) %}{% if ns.l == ns.l %}{% endif %}{% endfor %}",
       }) {
    Status st = render_status(t);
    EXPECT_FALSE(st.ok()) << t;
    EXPECT_TRUE(st.code() == StatusCode::kResourceExhausted || st.code() == StatusCode::kInvalidArgument)
        << t << " -> " << st.to_string();
  }
}

TEST(ChatTemplateHostile, DeepNestingIsAParseError) {
  std::string parens = std::string(5000, '(') + "1" + std::string(5000, ')');
  std::string nots;
  for (int i = 0; i < 5000; ++i) nots += "not ";
  std::string ifs;
  for (int i = 0; i < 3000; ++i) ifs += "{% if true %}";
  for (int i = 0; i < 3000; ++i) ifs += "{% endif %}";
  std::string lists = std::string(5000, '[') + std::string(5000, ']');
  std::string minus(5000, '-');
  for (const std::string& t : {"{{ " + parens + " }}", "{{ " + nots + "true }}", ifs, "{{ " + lists + " }}",
                               "{{ " + minus + "1 }}", "{{ x" + std::string(5000, '|') + " }}"}) {
    StatusOr<ChatTemplate> r = ChatTemplate::parse(t);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  }
  // Nesting up to the parser's limit parses and renders (no stack trouble).
  EXPECT_EQ(*render("{{ " + std::string(90, '(') + "1" + std::string(90, ')') + " }}"), "1");
  std::string deep_ifs;
  for (int i = 0; i < 60; ++i) deep_ifs += "{% for x in [1] %}{% if x %}";
  deep_ifs += "{{ " + std::string(20, '[') + "'in'" + std::string(20, ']') + " }}";
  for (int i = 0; i < 60; ++i) deep_ifs += "{% endif %}{% endfor %}";
  StatusOr<ChatTemplate> t = ChatTemplate::parse(deep_ifs);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  StatusOr<std::string> out = t->render({}, false, "", "");
  EXPECT_FALSE(out.ok() && out->empty());  // renders, or stops at the depth limit: either way no crash
}

TEST(ChatTemplateHostile, RecursionIsBounded) {
  Status st = render_status("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}");
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.to_string();
  st = render_status("{% macro f(n) %}{{ f(n) }}{{ f(n) }}{% endmacro %}{{ f(0) }}");
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.to_string();
  // Exponential fan-out without loops or deep recursion runs into the step limit.
  st = render_status("{% macro f(n) %}{% if n < 40 %}{{ f(n + 1) }}{{ f(n + 1) }}{% endif %}{% endmacro %}{{ f(0) }}");
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.to_string();
  EXPECT_NE(st.message().find("step"), std::string::npos) << st.to_string();
}

TEST(ChatTemplateHostile, NamespaceCyclesDoNotHangOrLeak) {
  Status st = render_status("{% set ns = namespace() %}{% set ns.self = ns %}{{ ns }}");
  EXPECT_FALSE(st.ok());
  st = render_status("{% set ns = namespace() %}{% set ns.self = ns %}{{ ns == ns }}");
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(render_status("{% set ns = namespace() %}{% set ns.self = ns %}{{ ns.self.self is defined }}").ok());
}

TEST(ChatTemplateHostile, RandomAndTruncatedTemplatesNeverCrash) {
  std::vector<std::string> seeds;
  for (const char* name : {"llama2", "llama3", "llama3.1", "llama3.2"}) seeds.emplace_back(builtin_chat_template(name));
  seeds.push_back("{% for m in messages if m.role != 'x' %}{{ loop.index ~ m['content'][1:] | trim | upper }}{% else %}"
                  "{{ {'a': [1, 2.5, none]} | tojson(indent=2) }}{% endfor %}{% set ns = namespace(a=1) %}{{ ns.a }}");
  std::mt19937 rng(12345);
  const std::string alphabet = "{}%#-+*/()[]<>=!|.,:'\"~ \n\tabcdefghijklmnopqrstuvwxyz0123456789_\\\x80\xff";
  int n_parsed = 0;
  for (int iter = 0; iter < 4000; ++iter) {
    std::string t;
    const std::string& seed = seeds[iter % seeds.size()];
    switch (iter % 4) {
      case 0: t = seed.substr(0, rng() % (seed.size() + 1)); break;  // truncated
      case 1: {                                                       // mutated
        t = seed;
        for (int k = 0; k < 1 + static_cast<int>(rng() % 6); ++k) {
          size_t pos = rng() % (t.size() + 1);
          if (rng() % 2) t.insert(pos, 1, alphabet[rng() % alphabet.size()]);
          else if (pos < t.size()) t.erase(pos, 1 + rng() % 4);
        }
        break;
      }
      case 2: {  // spliced halves of two seeds
        const std::string& other = seeds[rng() % seeds.size()];
        t = seed.substr(0, rng() % (seed.size() + 1)) + other.substr(rng() % (other.size() + 1));
        break;
      }
      default: {  // random bytes biased to template syntax
        size_t n = rng() % 80;
        for (size_t k = 0; k < n; ++k) t += alphabet[rng() % alphabet.size()];
        break;
      }
    }
    StatusOr<ChatTemplate> parsed = ChatTemplate::parse(t);
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), StatusCode::kInvalidArgument);
      continue;
    }
    ++n_parsed;
    StatusOr<std::string> out = parsed->render({{"system", "s"}, {"user", "u"}, {"assistant", "a"}}, iter % 2, "<s>", "</s>");
    if (!out.ok()) {
      StatusCode c = out.status().code();
      EXPECT_TRUE(c == StatusCode::kInvalidArgument || c == StatusCode::kResourceExhausted) << out.status().to_string();
    }
  }
  std::printf("fuzz: %d of 4000 templates parsed\n", n_parsed);
}

}  // namespace
}  // namespace maas
