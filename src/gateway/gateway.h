// gateway.h — the inference gateway in front of every endpoint (SPEC §2 on /endpoints/<name>/…
// and on <name>.<region>.<domain>): keys, rate limits, content safety, routing to the least
// busy instance, streaming proxy, metering.
//
// One request (ARCHITECTURE "One request's life"):
//   route     path /endpoints/<name>/<api route>, or Host <name>.<region>.<domain> (the port
//             ignored) with the API route as the path; anything else is not the gateway's;
//   key       Authorization: Bearer or api-key, compared as SHA-256 digests in constant time;
//             none, unknown, or of another workspace's endpoint, or for a name that does not
//             exist → 401; of another endpoint of the same workspace → 403 permission_error;
//             of a deleted (or deleting) endpoint → 404;
//   endpoint  its subscription deleted → 403
//             `marketplace_subscription_required` naming the offering;
//   metering  from here on every inference request writes one usage record (rejections too);
//             the ledger failing → 503 for new requests (fail closed);
//   body      strict JSON (400 as the worker would), the rate-limit estimate (inference_request.h);
//   deployment an online endpoint's deployment: the one `azureml-model-deployment` names, else
//             one drawn by its traffic percentages (none: 404 deployment_not_found); mirror
//             deployments get a copy with their percentage (answer dropped, never metered);
//   limit     a serverless endpoint's RateLimiter: 429 with Retry-After / retry-after-ms and the
//             x-ratelimit-* headers, which every later response carries too; an online
//             deployment's max concurrent requests per instance: 429 too_many_requests;
//   safety    the prompt hook (400 content_filter when blocked);
//   instance  the ready instance with the fewest outstanding requests; none → 503 Retry-After;
//   proxy     the worker's status and body pass through; a stream is relayed event by event as
//             it comes (sse_relay.h), paced by the slower side (the client's unsent bytes pause
//             the upstream read); a client that goes away cancels the upstream call, which
//             cancels the work on the worker; an instance that cannot be reached, or whose
//             connection breaks before any byte of its answer, is replaced once by another
//             ready instance; a worker that dies mid-response gives 502 (or an SSE error event
//             and [DONE] when the stream had started); no instance at all 503;
//   record    the usage record is committed before the response completes (the last bytes of a
//             stream, the whole non-streamed body), then the rate limit is reconciled.
// x-request-id is forwarded to the worker and returned to the client unchanged.
// Non-inference API routes (/info, /v1/models, /tokenize, /detokenize, /openapi.json) are proxied with the
// same key check, without metering or limits.
// Thread safety: handle() runs on HTTP I/O threads; everything it touches is thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/clock.h"
#include "base/histogram.h"
#include "api/api_error.h"
#include "control/metering.h"
#include "control/routing.h"
#include "gateway/content_safety.h"
#include "gateway/deadline_timer.h"
#include "http/client.h"
#include "http/http.h"

namespace maas::gateway {

struct GatewayOptions {
  std::string domain;               // host routing suffix; "" = path routing only
  int upstream_timeout_ms = 600000; // response head and gaps between body bytes
  size_t pause_above_bytes = 1 << 20;   // client's unsent bytes: pause the worker's stream above
  size_t resume_below_bytes = 256 << 10;
  size_t max_buffered_body = 64 << 20;  // non-streamed responses
  int record_wait_ms = 10000;       // longest wait for the usage record's commit
};

struct GatewayCounters {
  std::atomic<uint64_t> requests{0}, status_2xx{0}, status_4xx{0}, status_5xx{0}, rate_limited{0}, cancelled{0},
      mirrored{0};
};

class Gateway {
 public:
  using RouteSource = std::function<std::shared_ptr<const RoutingTable>()>;
  Gateway(GatewayOptions options, RouteSource routes, Meter& meter, ContentSafety& safety, const Clock& clock);
  ~Gateway();

  // True when the request is the gateway's (and is then answered); false to let the caller
  // route it elsewhere.
  bool handle(http::Request& request, const std::shared_ptr<http::Responder>& responder);
  std::string render_metrics() const;

  // Routing + proxy time until the request is handed to the worker (the gateway's added cost).
  Histogram overhead_seconds{{0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05}};
  // From the upstream's last byte to the usage record being durable.
  Histogram record_wait_seconds{{0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.5, 1}};
  GatewayCounters counters;

 private:
  friend struct ProxyCall;
  struct Target;
  bool resolve(const http::Request& request, Target* target) const;
  void handle_inference(http::Request& request, const std::shared_ptr<http::Responder>& responder, Target& target);
  void handle_passthrough(http::Request& request, const std::shared_ptr<http::Responder>& responder, Target& target);
  const DeploymentRoute* choose_deployment(const EndpointRoute& route, const http::Request& request,
                                           api::ApiError* error) const;
  void mirror(const DeploymentRoute& deployment, const http::ClientRequest& original);
  int random_percent(int total) const;  // uniform in [0, total)
  void count_status(int status);

  const GatewayOptions options_;
  const RouteSource routes_;
  Meter& meter_;
  ContentSafety& safety_;
  const Clock& clock_;
  DeadlineTimer timer_;
  http::HttpClient client_;  // last: its destructor completes every call before the rest goes
};

}  // namespace maas::gateway
