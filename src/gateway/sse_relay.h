// sse_relay.h — relaying a worker's event stream to the client while metering it.
//
// The gateway always asks the worker for usage on every chunk (stream_options.include_usage +
// continuous_usage_stats), so a stream cut short is billed for what was generated. The relay
// reads the usage from each event and gives the client exactly what it asked for:
//   - client asked for neither: "usage" removed from every chunk, the final usage chunk dropped;
//   - include_usage only: "usage": null on content chunks, the final usage chunk kept;
//   - continuous_usage_stats too: events pass unchanged.
// The worker writes each event as "data: <json>\n\n" with "usage" as the last member of the
// chunk object (api/stream_encoder.h), so the usage is found by a search from the end (a
// `"usage":` inside a string is always escaped as \"usage\", so it cannot match) and only that
// small object is parsed; anything else falls back to a full parse. "data: [DONE]" is held
// back: the gateway sends it after the usage record is durable.
// Thread safety: none; one relay per stream, fed from one thread at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace maas::gateway {

struct StreamUsage {
  int64_t prompt_tokens = 0, completion_tokens = 0;
  bool seen = false;
};

class SseRelay {
 public:
  SseRelay(bool client_include_usage, bool client_continuous_usage)
      : include_usage_(client_include_usage), continuous_(client_continuous_usage) {}

  // Bytes from the worker in; the bytes to send to the client out (whole events only; a
  // partial event waits for the rest).
  std::string feed(std::string_view bytes);
  bool saw_done() const { return saw_done_; }
  bool saw_error() const { return saw_error_; }
  const StreamUsage& usage() const { return usage_; }
  // The last finish_reason seen ("stop", "length", ...), "" if none.
  const std::string& finish_reason() const { return finish_reason_; }

 private:
  std::string relay_event(std::string_view payload);
  bool take_usage(std::string_view json, size_t* usage_key);

  const bool include_usage_, continuous_;
  std::string pending_;
  StreamUsage usage_;
  std::string finish_reason_;
  bool saw_done_ = false, saw_error_ = false;
};

}  // namespace maas::gateway
