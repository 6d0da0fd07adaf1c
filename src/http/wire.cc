// wire.cc — response serialisation, error bodies, request ids and target normalisation.
#include "http/wire.h"

#include <cstdio>
#include <random>

namespace maas::http {

const std::string* Request::header(std::string_view name) const {
  for (const Header& h : headers) {
    if (wire::iequals(h.name, name)) return &h.value;
  }
  return nullptr;
}

namespace wire {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool is_token_char(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (!is_token_char(c)) return false;
  }
  return true;
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  for (char c : value) {
    if (c != '\r' && c != '\n' && c != '\0') out.push_back(c);
  }
  out.append("\r\n");
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

void append_json_string(std::string& out, std::string_view s) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default:
        if (c < 0x20 || c >= 0x7f) {  // messages are ours and ASCII; never emit raw bytes
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out.append(buf);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

bool has_header(const std::vector<Header>& headers, std::string_view name) {
  for (const Header& h : headers) {
    if (iequals(h.name, name)) return true;
  }
  return false;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 424: return "Failed Dependency";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 499: return "Client Closed Request";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

std::string serialize_head(const Head& head) {
  int status = (head.status >= 100 && head.status <= 999) ? head.status : 500;
  std::string out;
  out.reserve(256);
  out.append("HTTP/1.1 ");
  out.append(std::to_string(status));
  out.push_back(' ');
  out.append(reason_phrase(status));
  out.append("\r\n");
  bool own_id = false;
  if (head.headers != nullptr) {
    for (const Header& h : *head.headers) {
      if (!is_token(h.name) || iequals(h.name, "content-length") ||
          iequals(h.name, "transfer-encoding") || iequals(h.name, "connection")) {
        continue;
      }
      if (iequals(h.name, "x-request-id")) {
        if (own_id) continue;  // exactly one
        own_id = true;
      }
      append_field(out, h.name, h.value);
    }
  }
  if (!own_id) append_field(out, "x-request-id", head.request_id);
  switch (head.framing) {
    case Framing::kContentLength:
      append_field(out, "content-length", std::to_string(head.content_length));
      break;
    case Framing::kChunked: append_field(out, "transfer-encoding", "chunked"); break;
    case Framing::kUntilClose:
    case Framing::kNoBody: break;
  }
  if (head.close || head.framing == Framing::kUntilClose) append_field(out, "connection", "close");
  out.append("\r\n");
  return out;
}

std::string frame_chunk(std::string_view data) {
  if (data.empty()) return {};
  char size[24];
  int n = std::snprintf(size, sizeof size, "%zx\r\n", data.size());
  std::string out;
  out.reserve(static_cast<size_t>(n) + data.size() + 2);
  out.append(size, static_cast<size_t>(n));
  out.append(data);
  out.append("\r\n");
  return out;
}

std::string error_json(std::string_view message, std::string_view type, std::string_view code) {
  std::string out = "{\"error\":{\"message\":";
  append_json_string(out, message);
  out.append(",\"type\":");
  append_json_string(out, type);
  out.append(",\"param\":null,\"code\":");
  append_json_string(out, code);
  out.append("}}");
  return out;
}

bool is_acceptable_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (unsigned char c : id) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

std::string generate_request_id() {
  thread_local std::mt19937_64 rng{[] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }()};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return std::string(buf, 32);
}

std::optional<Target> parse_target(std::string_view target) {
  if (target == "*") return Target{"*", ""};
  std::string_view rest = target;
  size_t scheme = rest.find("://");
  if (!rest.empty() && rest[0] != '/' && scheme != std::string_view::npos) {
    std::string_view s = rest.substr(0, scheme);
    if (!iequals(s, "http") && !iequals(s, "https")) return std::nullopt;
    rest.remove_prefix(scheme + 3);
    size_t slash = rest.find_first_of("/?");
    rest = slash == std::string_view::npos ? std::string_view("/") : rest.substr(slash);
    if (rest[0] == '?') return std::nullopt;
  }
  if (rest.empty() || rest[0] != '/') return std::nullopt;
  if (size_t hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  Target out;
  std::string_view raw_path = rest;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    raw_path = rest.substr(0, q);
    out.query = std::string(rest.substr(q + 1));
  }
  std::string decoded;
  decoded.reserve(raw_path.size());
  for (size_t i = 0; i < raw_path.size(); ++i) {
    char c = raw_path[i];
    if (c == '%') {
      if (i + 2 >= raw_path.size()) return std::nullopt;
      int hi = hex_value(raw_path[i + 1]), lo = hex_value(raw_path[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      c = static_cast<char>(hi * 16 + lo);
      if (c == '\0') return std::nullopt;
      i += 2;
    }
    decoded.push_back(c);
  }
  std::vector<std::string_view> segments;
  std::string_view d = decoded;
  while (!d.empty()) {
    size_t slash = d.find('/');
    std::string_view seg = d.substr(0, slash);
    d = slash == std::string_view::npos ? std::string_view() : d.substr(slash + 1);
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
      continue;
    }
    segments.push_back(seg);
  }
  for (std::string_view seg : segments) {
    out.path.push_back('/');
    out.path.append(seg);
  }
  if (out.path.empty()) out.path.push_back('/');
  return out;
}

}  // namespace wire
}  // namespace maas::http
