// proxy_call.h — one inference request forwarded to a worker instance: the upstream call, the
// relay of its response to the client, and the usage record that must be durable before the
// response completes (internal to the gateway; see gateway.h for the contract).
// Thread safety: upstream handlers (client I/O thread), the client's on_close (server I/O
// thread), the record's durable callback (meter thread) and the deadline (timer thread) may
// run at once; `mu` guards the state they share.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "control/rate_limiter.h"
#include "control/resources.h"
#include "control/routing.h"
#include "gateway/gateway.h"
#include "gateway/sse_relay.h"
#include "http/client.h"

namespace maas::gateway {

struct ProxyCall : std::enable_shared_from_this<ProxyCall> {
  Gateway* gateway = nullptr;
  std::shared_ptr<http::Responder> responder;
  std::shared_ptr<const EndpointRoute> route;
  std::unique_ptr<InstanceLease> lease;
  RateDecision decision;
  UsageRecord record;
  bool azure = false;
  bool stream = false;
  std::unique_ptr<SseRelay> relay;
  std::shared_ptr<http::ClientCall> call;
  bool content_safety = true;
  std::shared_ptr<DataCollector> collector;  // inference data collection (online deployments)
  std::string collected_request;             // the client's body, for the collector

  std::mutex mu;
  http::HttpClient* client = nullptr;
  http::ClientRequest request;          // guarded by mu: the upstream request, for a retry
  int upstream_status = 0;              // guarded by mu
  std::vector<http::Header> upstream_headers;  // guarded by mu
  std::string body;                     // guarded by mu: non-streamed response
  bool streaming = false;               // guarded by mu: SSE headers sent to the client
  bool client_gone = false;             // guarded by mu
  bool finalized = false;               // guarded by mu: the record was handed to the meter
  std::string deferred;                 // guarded by mu: bytes to send once the record is durable
  std::string collected_stream;         // guarded by mu: relayed events, for the collector (capped)
  int deferred_status = 0;              // guarded by mu: non-stream status to send
  std::vector<http::Header> deferred_headers;  // guarded by mu
  std::atomic<bool> delivered{false};

  std::string deployment_name;         // an online deployment: returned as azureml-model-deployment
  std::shared_ptr<InstancePool> pool;  // to retry on another instance
  int retries_left = 1;                // when an instance cannot be reached (nothing was sent)

  // Starts the upstream call (after every admission check passed). `request` has no
  // authorization yet: each attempt adds the key of the instance it goes to.
  void start(http::HttpClient& client, http::ClientRequest request);

 private:
  void send();  // mu held: one attempt on `lease`'s instance
  void on_head(http::ClientResponseHead&& head);
  void on_data(std::string&& data);
  void on_complete(Status status);
  void on_client_gone();
  // mu held: writes the record and arranges delivery after it is durable.
  void finalize(int status, const std::string& outcome, int64_t prompt_tokens, int64_t completion_tokens);
  void deliver();
  void collect(int status);  // mu held
  std::vector<http::Header> response_headers() const;
};

}  // namespace maas::gateway
