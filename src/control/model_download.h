// model_download.h — fetching one model file (a GGUF) over HTTP(S) with libcurl: resumable,
// verified by SHA-256, and atomic on disk. Behind `maas model pull`.
//
// The Hugging Face hub serves a repository file at "<base>/<repo>/resolve/<revision>/<file>"; for
// large (LFS) files it answers 302 to a CDN and puts the file's SHA-256 in `X-Linked-Etag` on that
// redirect. download_file() follows up to 10 redirects and reads the digest from any response of
// the chain (X-Linked-Etag first, else a 64-hex-digit ETag).
//
// On disk (D = dest_path):
//   D.part   bytes received so far; kept on network errors, timeouts and cancellation so the
//            next call resumes with `Range: bytes=<size>-` (206: append; 200: start over;
//            416: the part is taken as the whole file and verified)
//   D        appears only complete and verified: D.part is fsynced, renamed to D, and the
//            directory fsynced. A wrong digest deletes D.part (kDataLoss names both digests).
// An existing D is reused without downloading when its digest matches the expected one (given,
// or — when none is given — the one the server announces; the transfer stops at the headers).
// D's directory is created if missing. Two concurrent downloads to one D: the second fails
// (kFailedPrecondition) instead of interleaving bytes in D.part.
//
// Errors: kInvalidArgument (not an http/https URL, malformed expected_sha256, empty dest_path),
// kNotFound (HTTP 404), kPermissionDenied (HTTP 401/403; the message says whether a token was
// sent), kUnavailable (other HTTP statuses, network failures, too many redirects),
// kDeadlineExceeded (connect or low-speed timeout), kFailedPrecondition (no digest to verify
// against and allow_unverified is false — detected at the headers, before the body), kDataLoss
// (digest mismatch, server misbehaviour), kCancelled, kInternal (local I/O).
// The bearer token is never written to logs or messages, and libcurl does not forward it to
// another host when a redirect leaves the original one (the hub's CDN URLs are pre-signed).
//
// Thread safety: download_file() is reentrant; callbacks run on the calling thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace maas {

// "<base>/<repo>/resolve/<revision>/<file>", the hub's URL scheme. A trailing '/' on base_url is
// dropped; file is percent-encoded except for '/', revision entirely (so "refs/pr/1" stays one
// segment, as the hub expects); repo ("owner/name") is used as given.
std::string hf_resolve_url(std::string_view base_url, std::string_view repo, std::string_view file,
                           std::string_view revision = "main");

constexpr std::string_view kDefaultHfBaseUrl = "https://huggingface.co";

struct DownloadOptions {
  std::string url;                  // http:// or https://
  std::string dest_path;            // final file; bytes go to dest_path + ".part" first
  std::string expected_sha256;      // 64 hex digits (either case); empty: from the server's headers
  bool allow_unverified = false;    // no digest anywhere: keep the file anyway (result sha256 still set)
  std::string bearer_token;         // sent as "Authorization: Bearer <token>" when not empty
  int connect_timeout_s = 15;
  int low_speed_timeout_s = 60;     // abort when below 1 KiB/s for this long
  // (bytes in the file so far, total size or 0 when unknown); at most ~10 calls a second, plus
  // one when the transfer completes. Counts include a resumed part.
  std::function<void(uint64_t done, uint64_t total)> progress;
  // Polled during the transfer (at least once a second, even while stalled); true aborts with
  // kCancelled and keeps dest_path.part for a later resume.
  std::function<bool()> cancelled;
};

struct DownloadResult {
  std::string path;      // dest_path
  std::string sha256;    // lowercase hex digest of the file
  uint64_t bytes = 0;    // file size
  bool resumed = false;  // bytes of an earlier dest_path.part were kept
  bool reused = false;   // dest_path already held the file; nothing was downloaded
};

// Blocks until the file is in place or fails; see the top of this file.
StatusOr<DownloadResult> download_file(const DownloadOptions& options);

}  // namespace maas
