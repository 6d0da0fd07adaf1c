// content_type.cc — media type checks.
#include "http/content_type.h"

#include <cctype>

namespace maas::http {

bool is_json_content_type(const Request& req) {
  const std::string* ct = req.header("content-type");
  if (ct == nullptr) return false;
  std::string v;
  for (char c : *ct) v += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (v.rfind("application/json", 0) != 0) return false;
  // Exactly the media type, optionally followed by parameters ("; charset=utf-8").
  return v.size() == 16 || v[16] == ';' || v[16] == ' ' || v[16] == '\t';
}

}  // namespace maas::http
