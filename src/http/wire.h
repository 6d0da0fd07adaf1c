// wire.h — the bytes the layer writes, and small request helpers. No Asio or Beast here, so
// these pure functions are unit-tested alone (wire_test.cc). Thread safety: stateless, except
// generate_request_id (thread-local generator).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/http.h"

namespace maas::http::wire {

// "OK", "Not Found", ...; "Unknown" for codes without a phrase.
std::string_view reason_phrase(int status);

// kNoBody: 1xx/204/304 (no length field); kUntilClose: body ends when we close (HTTP/1.0).
enum class Framing { kContentLength, kChunked, kUntilClose, kNoBody };

struct Head {
  int status = 200;
  const std::vector<Header>* headers = nullptr;  // the caller's, may be null
  std::string_view request_id;      // added as x-request-id unless headers carry one
  Framing framing = Framing::kContentLength;
  size_t content_length = 0;        // for kContentLength
  bool close = false;               // adds "connection: close"
};

// True if `headers` holds a field with this name (case-insensitive).
bool has_header(const std::vector<Header>& headers, std::string_view name);
bool iequals(std::string_view a, std::string_view b);

// Status line + fields + blank line. Drops the caller's content-length, transfer-encoding and
// connection fields (framing is the layer's) and any field whose name is not a token; CR, LF
// and NUL are removed from values (no response splitting).
std::string serialize_head(const Head& head);
// One chunk of a chunked body: hex size CRLF data CRLF. Empty data gives an empty string.
std::string frame_chunk(std::string_view data);
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";
inline constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// {"error":{"message":...,"type":...,"param":null,"code":...}} with JSON escaping.
std::string error_json(std::string_view message, std::string_view type, std::string_view code);

// A client's x-request-id is kept if it is 1..128 bytes of printable ASCII (0x21..0x7e).
bool is_acceptable_request_id(std::string_view id);
std::string generate_request_id();  // 32 lower-case hex digits (128 random bits)

struct Target {
  std::string path;
  std::string query;
};
// Splits and normalises a request target as documented in http.h; nullopt if malformed.
std::optional<Target> parse_target(std::string_view target);

}  // namespace maas::http::wire
