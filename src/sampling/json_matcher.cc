// json_matcher.cc — the byte-at-a-time JSON recogniser (see json_matcher.h).
#include "sampling/json_matcher.h"

#include <bit>
#include <limits>

namespace maas {
namespace {

using Kind = JsonNode::Kind;

bool is_ws(uint8_t c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }
bool is_digit(uint8_t c) { return c >= '0' && c <= '9'; }
bool is_hex(uint8_t c) { return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// Object substates.
enum : uint8_t { kObjStart, kObjNeedKey, kObjColon, kObjValue, kObjNext };
// Array substates.
enum : uint8_t { kArrStart, kArrNeedValue, kArrValue, kArrNext };
// Number substates: accepting ones are kNumZero, kNumInt, kNumFrac, kNumExp.
enum : uint8_t { kNumStart, kNumMinus, kNumZero, kNumInt, kNumDot, kNumFrac, kNumE, kNumESign, kNumExp };

// Exponents of at most two digits: every number stays a finite double (digits are limited by
// kMaxNumberChars), which clients' parsers need; 1e400 is valid JSON that many cannot read.
constexpr int kMaxExponentDigits = 2;

bool number_accepting(uint8_t sub) { return sub == kNumZero || sub == kNumInt || sub == kNumFrac || sub == kNumExp; }

uint64_t all_keys(const JsonNode* n) {
  const size_t k = n->keys.size();
  return k >= 64 ? ~uint64_t{0} : (uint64_t{1} << k) - 1;
}

}  // namespace

// state: continuation bytes still due (low 2 bits) and, for the first of them, a narrower range
// (bits 2..4: 1 after E0, 2 after ED, 3 after F0, 4 after F4).
bool utf8_next(uint8_t* state, uint8_t c) {
  const int pending = *state & 3, narrow = *state >> 2;
  if (pending == 0) {
    if (c < 0x80) return true;
    if (c >= 0xC2 && c <= 0xDF) {
      *state = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
      *state = static_cast<uint8_t>(2 | ((c == 0xE0 ? 1 : c == 0xED ? 2 : 0) << 2));
    } else if (c >= 0xF0 && c <= 0xF4) {
      *state = static_cast<uint8_t>(3 | ((c == 0xF0 ? 3 : c == 0xF4 ? 4 : 0) << 2));
    } else {
      return false;
    }
    return true;
  }
  const uint8_t lo = narrow == 1 ? 0xA0 : narrow == 3 ? 0x90 : 0x80;
  const uint8_t hi = narrow == 2 ? 0x9F : narrow == 4 ? 0x8F : 0xBF;
  if (c < lo || c > hi) return false;
  *state = static_cast<uint8_t>(pending - 1);
  return true;
}

JsonMatcher::JsonMatcher(const JsonNode* root) {
  stack_[0] = Frame{};
  stack_[0].type = F::kValue;
  stack_[0].node = root ? root : json_any_value();
  depth_ = 1;
}

JsonMatcher& JsonMatcher::operator=(const JsonMatcher& other) {
  for (int i = 0; i < other.depth_; ++i) stack_[i] = other.stack_[i];
  depth_ = other.depth_;
  done_ = other.done_;
  failed_ = other.failed_;
  ws_ = other.ws_;
  return *this;
}

bool JsonMatcher::feed(std::string_view bytes) {
  for (char c : bytes) {
    if (!feed(static_cast<uint8_t>(c))) return false;
  }
  return true;
}

bool JsonMatcher::feed(uint8_t c) {
  if (failed_) return false;
  for (;;) {  // a number or enum literal that ends at c hands c on to its parent
    if (depth_ == 0) {
      if (done_ && is_ws(c) && ++ws_ <= kMaxWhitespace) return true;
      return fail() == kOk;
    }
    Frame& f = stack_[depth_ - 1];
    Result r = kFail;
    switch (f.type) {
      case F::kValue: r = start_value(f, c); break;
      case F::kObject: r = object(f, c); break;
      case F::kKey: r = key(f, c); break;
      case F::kArray: r = array(f, c); break;
      case F::kString: r = string(f, c); break;
      case F::kNumber: r = number(f, c); break;
      case F::kLiteral: r = literal(f, c); break;
      case F::kEnum: r = enumeration(f, c); break;
    }
    if (r == kRefeed) continue;
    return r == kOk;
  }
}

bool JsonMatcher::push(F type, const JsonNode* node) {
  if (depth_ == kMaxDepth) return false;
  Frame& f = stack_[depth_++];
  f = Frame{};
  f.type = type;
  f.node = node;
  return true;
}

// The innermost frame's value is finished: its parent moves on.
void JsonMatcher::value_done() {
  --depth_;
  if (depth_ == 0) {
    done_ = true;
    ws_ = 0;
    return;
  }
  Frame& p = stack_[depth_ - 1];
  p.ws = 0;
  if (p.type == F::kObject) p.sub = kObjNext;
  if (p.type == F::kArray) p.sub = kArrNext;
}

JsonMatcher::Result JsonMatcher::whitespace(Frame& f) { return ++f.ws <= kMaxWhitespace ? kOk : fail(); }

JsonMatcher::Result JsonMatcher::start_value(Frame& f, uint8_t c) {
  if (is_ws(c)) return whitespace(f);
  const JsonNode* n = f.node;
  if (n->kind == Kind::kUnion) {
    const JsonNode* chosen = nullptr;
    for (const JsonNode* a : n->alternatives) {
      if (json_value_may_start(a, c)) {
        chosen = a;
        break;
      }
    }
    if (!chosen) return fail();
    n = chosen;
  }
  if (!json_value_may_start(n, c)) return fail();
  const bool any = n->kind == Kind::kAny;
  f = Frame{};
  f.node = n;
  if (c == '{' && (any || n->kind == Kind::kObject)) {
    f.type = F::kObject;
    if (any) f.node = json_any_object();
    f.sub = kObjStart;
    return kOk;
  }
  if (c == '[' && (any || n->kind == Kind::kArray)) {
    f.type = F::kArray;
    if (any) f.node = json_any_array();
    f.sub = kArrStart;
    return kOk;
  }
  if (n->kind == Kind::kEnum) {
    f.type = F::kEnum;
    for (size_t i = 0; i < n->literals.size(); ++i) {
      if (static_cast<uint8_t>(n->literals[i][0]) == c) f.bits |= uint64_t{1} << i;
    }
    f.count = 1;
    return kOk;
  }
  if (c == '"') {
    f.type = F::kString;
    return kOk;
  }
  if (c == 't' || c == 'f' || c == 'n') {
    f.type = F::kLiteral;
    f.text = c == 't' ? "true" : c == 'f' ? "false" : "null";
    f.count = 1;
    return kOk;
  }
  f.type = F::kNumber;
  f.sub = kNumStart;
  return number(f, c);
}

JsonMatcher::Result JsonMatcher::object(Frame& f, uint8_t c) {
  if (is_ws(c) && f.sub != kObjValue) return whitespace(f);
  f.ws = 0;
  const JsonNode* n = f.node;
  const bool more_keys = n->extra != nullptr || (all_keys(n) & ~f.bits) != 0;
  switch (f.sub) {
    case kObjStart:
    case kObjNeedKey:
      if (c == '"' && more_keys) {
        uint64_t candidates = all_keys(n) & ~f.bits;
        if (n->ordered) candidates &= ~candidates + 1;  // only the first key not written yet
        if (!push(F::kKey, n)) return fail();
        stack_[depth_ - 1].bits = candidates;
        return kOk;
      }
      if (c == '}' && f.sub == kObjStart && (n->required & ~f.bits) == 0) {
        value_done();
        return kOk;
      }
      return fail();
    case kObjColon:
      if (c != ':') return fail();
      f.sub = kObjValue;
      if (!push(F::kValue, value_schema(f))) return fail();
      return kOk;
    case kObjNext:
      if (c == ',' && more_keys) {
        f.sub = kObjNeedKey;
        return kOk;
      }
      if (c == '}' && (n->required & ~f.bits) == 0) {
        value_done();
        return kOk;
      }
      return fail();
    default:
      return fail();  // kObjValue: the value's own frame is above
  }
}

// A string's escape sequences; f.sub 1 is "after a backslash", 2..5 the \u hex digits.
bool JsonMatcher::escape(Frame& f, uint8_t c) {
  if (f.sub == 1) {
    if (c == 'u') {
      f.sub = 2;
      return true;
    }
    f.sub = 0;
    return c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' || c == 'r' || c == 't';
  }
  if (!is_hex(c)) return false;
  f.sub = f.sub == 5 ? 0 : f.sub + 1;
  return true;
}

// A key's bytes are matched as written against the JSON-escaped property names.
JsonMatcher::Result JsonMatcher::key(Frame& f, uint8_t c) {
  Frame& p = stack_[depth_ - 2];
  const JsonNode* n = p.node;
  if (f.utf8 != 0) {
    if (!utf8_next(&f.utf8, c)) return fail();
  } else if (f.sub == 0 && c == '"') {
    int match = -1;
    for (uint64_t b = f.bits; b != 0; b &= b - 1) {
      const int i = std::countr_zero(b);
      if (static_cast<int32_t>(n->keys[static_cast<size_t>(i)].size()) == f.count) match = i;
    }
    if (match < 0 && n->extra == nullptr) return fail();
    --depth_;
    p.key = static_cast<int16_t>(match);
    if (match >= 0) p.bits |= uint64_t{1} << match;
    p.sub = kObjColon;
    p.ws = 0;
    return kOk;
  } else if (f.sub == 0) {
    if (c < 0x20 || !utf8_next(&f.utf8, c)) return fail();
    if (c == '\\') f.sub = 1;
  } else if (!escape(f, c)) {
    return fail();
  }
  uint64_t next = 0;
  for (uint64_t b = f.bits; b != 0; b &= b - 1) {
    const int i = std::countr_zero(b);
    const std::string& k = n->keys[static_cast<size_t>(i)];
    if (static_cast<int32_t>(k.size()) > f.count && static_cast<uint8_t>(k[static_cast<size_t>(f.count)]) == c) {
      next |= uint64_t{1} << i;
    }
  }
  f.bits = next;
  ++f.count;
  if (next == 0 && n->extra == nullptr) return fail();
  return kOk;
}

JsonMatcher::Result JsonMatcher::array(Frame& f, uint8_t c) {
  if (is_ws(c) && f.sub != kArrValue) return whitespace(f);
  f.ws = 0;
  const JsonNode* n = f.node;
  switch (f.sub) {
    case kArrStart:
      if (c == ']') {
        if (n->min_items > 0) return fail();
        value_done();
        return kOk;
      }
      [[fallthrough]];
    case kArrNeedValue:
      if (f.count >= n->max_items) return fail();
      ++f.count;
      f.sub = kArrValue;
      if (!push(F::kValue, n->items ? n->items : json_any_value())) return fail();
      return kRefeed;
    case kArrNext:
      if (c == ',' && f.count < n->max_items) {
        f.sub = kArrNeedValue;
        return kOk;
      }
      if (c == ']' && f.count >= n->min_items) {
        value_done();
        return kOk;
      }
      return fail();
    default:
      return fail();
  }
}

JsonMatcher::Result JsonMatcher::string(Frame& f, uint8_t c) {
  if (f.sub != 0) return escape(f, c) ? kOk : fail();
  if (f.utf8 != 0) return utf8_next(&f.utf8, c) ? kOk : fail();
  if (c == '"') {
    if (f.count < f.node->min_length) return fail();
    value_done();
    return kOk;
  }
  if (c < 0x20 || !utf8_next(&f.utf8, c)) return fail();
  if (c == '\\') f.sub = 1;
  if (++f.count > f.node->max_length) return fail();  // a character (or an escape) begins here
  return kOk;
}

JsonMatcher::Result JsonMatcher::number(Frame& f, uint8_t c) {
  const bool integer = f.node->kind == Kind::kInteger;
  uint8_t next = 0xff;
  switch (f.sub) {
    case kNumStart:
      if (c == '-') next = kNumMinus;
      [[fallthrough]];
    case kNumMinus:
      if (c == '0') next = kNumZero;
      if (c >= '1' && c <= '9') next = kNumInt;
      break;
    case kNumInt:
      if (is_digit(c)) next = kNumInt;
      [[fallthrough]];
    case kNumZero:
      if (c == '.' && !integer) next = kNumDot;
      if ((c == 'e' || c == 'E') && !integer) next = kNumE;
      break;
    case kNumDot:
    case kNumFrac:
      if (is_digit(c)) next = kNumFrac;
      if (f.sub == kNumFrac && (c == 'e' || c == 'E')) next = kNumE;
      break;
    case kNumE:
      if (c == '+' || c == '-') next = kNumESign;
      [[fallthrough]];
    case kNumESign:
    case kNumExp:
      if (is_digit(c) && f.key < kMaxExponentDigits) next = kNumExp;
      break;
  }
  if (next == kNumExp) ++f.key;  // exponent digits
  if (next != 0xff) {
    if (++f.count > kMaxNumberChars) return fail();
    f.sub = next;
    return kOk;
  }
  if (!number_accepting(f.sub)) return fail();
  value_done();
  return kRefeed;
}

JsonMatcher::Result JsonMatcher::literal(Frame& f, uint8_t c) {
  if (static_cast<uint8_t>(f.text[f.count]) != c) return fail();
  if (f.text[++f.count] == '\0') value_done();
  return kOk;
}

const JsonNode* JsonMatcher::value_schema(const Frame& f) {
  const JsonNode* n = f.node;
  if (f.key < 0) return n->extra;
  if (f.key == 1 && !n->variants.empty()) return n->variants[static_cast<size_t>(f.tag)];
  return n->values[static_cast<size_t>(f.key)];
}

JsonMatcher::Result JsonMatcher::enumeration(Frame& f, uint8_t c) {
  const std::vector<std::string>& lits = f.node->literals;
  uint64_t next = 0;
  bool complete = false;
  for (uint64_t b = f.bits; b != 0; b &= b - 1) {
    const int i = std::countr_zero(b);
    const std::string& l = lits[static_cast<size_t>(i)];
    if (static_cast<int32_t>(l.size()) == f.count) complete = true;
    if (static_cast<int32_t>(l.size()) > f.count && static_cast<uint8_t>(l[static_cast<size_t>(f.count)]) == c) {
      next |= uint64_t{1} << i;
    }
  }
  if (next != 0) {
    f.bits = next;
    ++f.count;
    return kOk;
  }
  if (!complete) return fail();
  if (depth_ >= 2 && stack_[depth_ - 2].type == F::kObject) {  // a tagged object's tag
    for (uint64_t b = f.bits; b != 0; b &= b - 1) {
      const int i = std::countr_zero(b);
      if (static_cast<int32_t>(lits[static_cast<size_t>(i)].size()) == f.count) stack_[depth_ - 2].tag = static_cast<int16_t>(i);
    }
  }
  value_done();
  return kRefeed;
}

bool JsonMatcher::enum_complete(const Frame& f, bool* may_grow) const {
  bool complete = false;
  *may_grow = false;
  for (uint64_t b = f.bits; b != 0; b &= b - 1) {
    const size_t len = f.node->literals[static_cast<size_t>(std::countr_zero(b))].size();
    if (static_cast<int32_t>(len) == f.count) complete = true;
    if (static_cast<int32_t>(len) > f.count) *may_grow = true;
  }
  return complete;
}

bool JsonMatcher::complete() const {
  if (failed_) return false;
  if (depth_ == 0) return done_;
  if (depth_ != 1) return false;
  const Frame& f = stack_[0];
  bool grow = false;
  if (f.type == F::kNumber) return number_accepting(f.sub);
  if (f.type == F::kEnum) return enum_complete(f, &grow);
  return false;
}

bool JsonMatcher::closed() const {
  if (failed_) return false;
  if (depth_ == 0) return done_;
  bool grow = true;
  return depth_ == 1 && stack_[0].type == F::kEnum && enum_complete(stack_[0], &grow) && !grow;
}

bool JsonMatcher::in_plain_string(int32_t* room) const {
  if (failed_ || depth_ == 0) return false;
  const Frame& f = stack_[depth_ - 1];
  if (f.sub != 0 || f.utf8 != 0) return false;
  if (f.type == F::kKey && stack_[depth_ - 2].node->extra != nullptr) {  // any key will do
    *room = std::numeric_limits<int32_t>::max();
    return true;
  }
  if (f.type != F::kString) return false;
  *room = f.node->max_length - f.count;
  return true;
}

}  // namespace maas
