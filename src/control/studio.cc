// studio.cc — the studio's files with their security headers and ETags (studio.h).
#include "control/studio.h"

#include "control/crypto.h"

namespace maas {

StudioServer::StudioServer(const std::vector<StudioAsset>& assets) {
  for (const StudioAsset& a : assets) {
    std::string etag = "\"";
    etag.append(sha256_hex(a.data), 0, 32).push_back('"');
    files_.push_back(File{a, std::move(etag)});
  }
}

const char* StudioServer::content_security_policy() {
  return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; font-src 'self'; "
         "connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
}

std::vector<http::Header> StudioServer::security_headers() {
  return {{"content-security-policy", content_security_policy()},
          {"x-content-type-options", "nosniff"},
          {"x-frame-options", "DENY"},
          {"referrer-policy", "no-referrer"},
          {"cross-origin-opener-policy", "same-origin"},
          {"cross-origin-resource-policy", "same-origin"}};
}

bool StudioServer::handle(const http::Request& request, http::Responder& responder) const {
  if (request.method != "GET" && request.method != "HEAD") return false;
  const File* file = nullptr;
  for (const File& f : files_) {
    if (f.asset.path == request.path) file = &f;
  }
  if (file == nullptr) return false;
  std::vector<http::Header> headers = security_headers();
  headers.push_back({"etag", file->etag});
  headers.push_back({"cache-control", "no-cache"});
  const std::string* match = request.header("if-none-match");
  if (match != nullptr && *match == file->etag) {
    responder.send(304, std::move(headers), "");
    return true;
  }
  headers.push_back({"content-type", std::string(file->asset.content_type)});
  responder.send(200, std::move(headers), std::string(file->asset.data));
  return true;
}

}  // namespace maas
