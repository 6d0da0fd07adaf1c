// serve_bootstrap.h — what `maas serve` sets up in a new data directory, once: the catalog, an
// administrator (token printed once, stored hashed), the workspace "default" in the server's
// region, and the embedded default model registered, subscribed and deployed as the
// serverless endpoint "default". Each step checks what exists, so a start interrupted half way
// finishes the rest on the next start; later starts only add catalog entries that are new.
#pragma once

#include <string>

#include "control/platform.h"
#include "control/store.h"

namespace maas {

struct BootstrapOptions {
  std::string region = "local";
  std::string default_model_path;  // "" = no default model
  bool new_admin_token = false;    // issue another administrator token (the old ones stay valid)
};

struct BootstrapResult {
  bool first_start = false;
  std::string admin_token;  // set when a token was issued now (shown once)
};

inline constexpr const char* kDefaultWorkspace = "default";
inline constexpr const char* kDefaultEndpoint = "default";

StatusOr<BootstrapResult> bootstrap(Store& store, Platform& platform, const BootstrapOptions& options);

}  // namespace maas
