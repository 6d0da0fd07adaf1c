// json_matcher.h — recognises JSON text against a JsonGrammar one byte at a time.
//
// A pushdown recogniser: a stack of frames (value, object, key, array, string, number, literal,
// enum), each with its small state. feed(c) answers whether the text so far plus c can still
// become a value the grammar accepts; a refused byte leaves the matcher failed. It is copied
// for every candidate token of a step (json_constraint.cc), so a copy moves only the live frames.
// Limits (a model must not be able to grow the state without bound): nesting depth kMaxDepth,
// kMaxWhitespace whitespace bytes in a row, numbers of at most kMaxNumberChars characters and
// exponents of at most two digits (so that every number is a finite double).
// Strings and keys must be valid UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF), so that maxLength counts what a client counts; a lone \uD800 escape is let through.
// Not checked: duplicate keys where extra keys are allowed.
#pragma once

#include <cstdint>
#include <string_view>

#include "sampling/json_grammar.h"

namespace maas {

// One byte of UTF-8 validation: *state (0 between characters) says what the next byte may be.
// False if c cannot come next.
bool utf8_next(uint8_t* state, uint8_t c);

class JsonMatcher {
 public:
  static constexpr int kMaxDepth = 48;
  static constexpr int kMaxWhitespace = 16;
  static constexpr int kMaxNumberChars = 32;

  explicit JsonMatcher(const JsonNode* root);
  JsonMatcher(const JsonMatcher& other) { *this = other; }
  JsonMatcher& operator=(const JsonMatcher& other);

  bool feed(uint8_t c);
  bool feed(std::string_view bytes);
  bool failed() const { return failed_; }
  // The text is one whole value; a number may still grow, and whitespace may follow.
  bool complete() const;
  // complete(), and nothing but whitespace can follow.
  bool closed() const;
  // The innermost frame is a string, between characters and outside an escape, that any whole
  // UTF-8 characters but '"', '\\' and control characters continue: a string value with *room more characters to its maxLength, or a key
  // of an object that takes any other key (room unlimited).
  bool in_plain_string(int32_t* room) const;

 private:
  enum class F : uint8_t { kValue, kObject, kKey, kArray, kString, kNumber, kLiteral, kEnum };
  // Trivially constructible, so that a copy of the matcher touches only the live frames.
  struct Frame {
    const JsonNode* node;
    const char* text;  // kLiteral: "true", "false" or "null"
    uint64_t bits;     // kObject: keys seen; kKey: candidate keys; kEnum: candidate literals
    int32_t count;     // members (object, array), characters (string), bytes (key, literal, enum)
    int16_t key;       // kObject: the key whose value is being read (-1: an extra key); kNumber: exponent digits
    int16_t tag;       // kObject with variants: the literal keys[0]'s value was
    F type;
    uint8_t sub;       // the frame's own state
    uint8_t ws;        // whitespace bytes in a row
    uint8_t utf8;      // kString, kKey: utf8_next's state
  };
  enum Result { kFail, kOk, kRefeed };

  Result fail() {
    failed_ = true;
    return kFail;
  }
  bool push(F type, const JsonNode* node);
  void value_done();
  Result whitespace(Frame& f);
  Result start_value(Frame& f, uint8_t c);
  Result object(Frame& f, uint8_t c);
  Result key(Frame& f, uint8_t c);
  Result array(Frame& f, uint8_t c);
  Result string(Frame& f, uint8_t c);
  Result number(Frame& f, uint8_t c);
  Result literal(Frame& f, uint8_t c);
  Result enumeration(Frame& f, uint8_t c);
  static bool escape(Frame& f, uint8_t c);
  static const JsonNode* value_schema(const Frame& f);
  bool enum_complete(const Frame& f, bool* may_grow) const;

  Frame stack_[kMaxDepth];
  int depth_ = 0;
  bool done_ = false;    // the top-level value is finished
  bool failed_ = false;
  uint8_t ws_ = 0;       // whitespace after the finished value
};

}  // namespace maas
