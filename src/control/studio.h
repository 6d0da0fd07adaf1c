// studio.h — serves the studio, the platform's web interface, at `/` of `maas serve`: its files
// are built from web/ by esbuild at build time and compiled into the binary (web/CMakeLists.txt
// writes studio_assets.cc), so nothing is fetched from a CDN or the network at run time. The
// page talks only to the management API (/api/..., with the session cookie) and the gateway
// (/endpoints/..., with an endpoint key), both on the same origin.
//
// Every answer carries the usual hardening headers: a Content-Security-Policy that allows
// scripts, styles and connections from this origin only (no inline script, no eval), no
// framing (frame-ancestors 'none', X-Frame-Options), X-Content-Type-Options: nosniff,
// Referrer-Policy: no-referrer. Files are revalidated by ETag (304 when unchanged).
// Thread safety: handle() is const and may run on any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/http.h"

namespace maas {

struct StudioAsset {
  std::string_view path;          // "/", "/assets/app.js", ...
  std::string_view content_type;  // "text/html; charset=utf-8", ...
  std::string_view data;
};

// The files built from web/: defined by the generated studio_assets.cc (library
// maas_studio_assets); a placeholder page when the build had no node/esbuild.
const std::vector<StudioAsset>& studio_assets();

class StudioServer {
 public:
  explicit StudioServer(const std::vector<StudioAsset>& assets);

  // Answers GET/HEAD of "/" and of the assets' paths and returns true; false for any other
  // request (the caller answers it).
  bool handle(const http::Request& request, http::Responder& responder) const;

  static const char* content_security_policy();
  // The hardening headers every studio answer carries (see the banner).
  static std::vector<http::Header> security_headers();

 private:
  struct File {
    StudioAsset asset;
    std::string etag;
  };
  std::vector<File> files_;
};

}  // namespace maas
