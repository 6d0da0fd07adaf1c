// platform_client.h — how the CLI talks to a running `maas serve`: where it is and with which
// token, one REST call, and printing results as tables or JSON.
//
// Connection, first found wins: --url / --token; MAAS_URL / MAAS_TOKEN; the cli.json that
// `maas serve` writes in its data directory (--data-dir, else MAAS_DATA_DIR, else the serve
// default). The workspace: --workspace, else MAAS_WORKSPACE, else "default".
// Errors are one line on stderr ("error: <the API's message>") and exit 1; usage errors exit 2.
#pragma once

#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "args.h"
#include "base/status.h"

namespace maas {

using OJson = nlohmann::ordered_json;

// The flags every platform command accepts (add them to a command's own value flags).
const std::set<std::string>& platform_value_flags();

struct PlatformConnection {
  std::string host;
  uint16_t port = 0;
  std::string token;
  std::string workspace;
};

StatusOr<PlatformConnection> connect_from(const Args& args);

struct ApiResult {
  int status = 0;
  OJson body;
  std::string error;  // the API's error message when status >= 400
};

// One call; a transport failure (server not running) is an error Status naming the URL.
StatusOr<ApiResult> api_call(const PlatformConnection& c, const std::string& method, const std::string& path,
                             const OJson& body = nullptr);

using Rows = std::vector<std::vector<std::string>>;

// Prints rows as an aligned table with the given headers.
void print_table(const std::vector<std::string>& headers, const Rows& rows);
// The "data" array of a list answer (an empty array when absent).
const OJson& list_data(const OJson& body);
// "usage: <text>" on stderr; returns exit code 2.
int usage_error(const std::string& text);
// A JSON value as table text ("" for null, numbers without trailing zeros).
std::string cell(const OJson& value);

// Runs `method path body` ("{ws}" in the path becomes the workspace) and prints: JSON
// (--output json) or via `render`. Returns the exit code.
int run_and_print(const Args& args, const std::string& method, const std::string& path, const OJson& body,
                  void (*render)(const OJson& body));

// Percent-encodes one path segment.
std::string path_segment(const std::string& s);

}  // namespace maas
