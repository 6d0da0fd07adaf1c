// commands.h — the maas subcommands. Each takes the arguments after its name and returns the
// process exit code (0 ok, 1 failure, 2 usage error); errors are printed to stderr.
#pragma once

#include <string>
#include <vector>

namespace maas {

int cmd_run(const std::vector<std::string>& args);
int cmd_model(const std::vector<std::string>& args);
int cmd_tokenize(const std::vector<std::string>& args);
int cmd_bench(const std::vector<std::string>& args);
int cmd_worker(const std::vector<std::string>& args);

// Prints "error: <message>" to stderr and returns 1 (or 2 for usage errors).
int report_error(const std::string& message, int code = 1);

}  // namespace maas
