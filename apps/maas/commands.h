// commands.h — the maas subcommands. Each takes the arguments after its name and returns the
// process exit code (0 ok, 1 failure, 2 usage error); errors are printed to stderr.
#pragma once

#include <signal.h>

#include <string>
#include <vector>

#include "base/status.h"

namespace maas {

int cmd_run(const std::vector<std::string>& args);
int cmd_model(const std::vector<std::string>& args);
int cmd_tokenize(const std::vector<std::string>& args);
int cmd_bench(const std::vector<std::string>& args);
// `maas perplexity`: perplexity and KL divergence from a base run (cmd_perplexity.cc).
int cmd_perplexity(const std::vector<std::string>& args);
int cmd_worker(const std::vector<std::string>& args);
int cmd_serve(const std::vector<std::string>& args);
int cmd_model_check(const std::vector<std::string>& args);
// `maas model list|show NAME|register|pull|update|rm` against the platform (cmd_platform_models.cc).
int cmd_model_platform(const std::vector<std::string>& args);
// workspace, marketplace-subscription, serverless-endpoint, usage, offering (cmd_platform.cc).
int cmd_platform(const std::string& command, const std::vector<std::string>& args);
bool is_platform_command(const std::string& command);
// principal, token, role, role-assignment, audit (cmd_access.cc).
int cmd_access(const std::string& command, const std::vector<std::string>& args);
bool is_access_command(const std::string& command);
// online-endpoint, online-deployment, instance-type, quota (cmd_online.cc).
int cmd_online(const std::string& command, const std::vector<std::string>& args);
bool is_online_command(const std::string& command);

class Args;
// Writes a synthetic Llama model as `maas model generate` does (--out, --preset, --type, ...).
Status generate_model(const Args& args);

// Blocks SIGTERM and SIGINT in this thread (and every thread started later), to be taken with
// sigwait() on the returned set; ignores SIGPIPE (a closed socket is an error value, not a death).
sigset_t block_stop_signals();

// Prints "error: <message>" to stderr and returns 1 (or 2 for usage errors).
int report_error(const std::string& message, int code = 1);

}  // namespace maas
