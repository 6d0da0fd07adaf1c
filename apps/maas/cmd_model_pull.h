// cmd_model_pull.h — `maas model pull REPO FILE`: download one GGUF file of a Hugging Face-style
// repository into the models directory, resumable and verified by SHA-256
// (src/control/model_download.h does the work).
//
//   maas model pull REPO FILE [--revision main] [--base-url URL] [--sha256 HEX] [--out DIR]
//                   [--token-env HF_TOKEN] [--allow-unverified] [--output json]
//
// --base-url defaults to $MAAS_HF_BASE_URL, else https://huggingface.co; --out to
// $MAAS_MODELS_DIR, else ./models. The file lands at DIR/<basename of FILE>. The access token
// is read from the environment variable named by --token-env (never from the command line, so
// it stays out of shell history and `ps`).
// stdout: the local path, or {"path","sha256","bytes","resumed","reused"} with --output json.
// stderr: a progress bar only when stderr is a terminal; errors as one "error: ..." line.
// Exit: 0 ok, 1 failure, 2 usage, 130 interrupted (SIGINT/SIGTERM; DIR/<file>.part is kept and
// the next pull resumes it).
#pragma once

#include <string>
#include <vector>

namespace maas {

int cmd_model_pull(const std::vector<std::string>& args);

}  // namespace maas
