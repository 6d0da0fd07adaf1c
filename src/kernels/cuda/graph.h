// graph.h — CUDA graphs of a step's launches, and pinned host memory for the logits a graph
// copies out (cuda_backend.cc replays decode steps with them; model/step_graph_plan.h decides
// when).
//
// Every op of cuda_ops.h runs on the calling thread's default stream (maas_kernels_cuda is built
// with the per-thread default stream, which can be captured; the legacy one cannot), so a capture
// begun here records every op the thread queues until end_capture: kernels, cuBLAS calls (its
// handle is bound to that stream) and async copies. During a capture nothing may synchronise,
// allocate device memory the first time, or copy to pageable host memory: the ops must have run
// once eagerly with the same shapes first.
// Thread safety: one thread; a StepGraph may be launched from the thread that captured it.
#pragma once

#include <cstddef>

#include "base/status.h"

namespace maas::cuda {

// An instantiated graph (cudaGraphExec_t), owned, movable.
class StepGraph {
 public:
  StepGraph() = default;
  ~StepGraph();
  StepGraph(StepGraph&& other) noexcept;
  StepGraph& operator=(StepGraph&& other) noexcept;
  StepGraph(const StepGraph&) = delete;
  StepGraph& operator=(const StepGraph&) = delete;

  bool valid() const { return exec_ != nullptr; }
  // Queues the graph's work on the thread's default stream.
  Status launch() const;

 private:
  friend StatusOr<StepGraph> end_capture();
  void* exec_ = nullptr;
};

// Starts capturing the thread's default stream (relaxed mode: only this stream's work is
// captured; other API calls stay legal).
Status begin_capture();
// Ends the capture and instantiates it. Internal when anything queued during the capture failed
// or could not be captured (the capture is discarded either way).
StatusOr<StepGraph> end_capture();

// Page-locked host memory (cudaMallocHost), owned, movable: the target of copy_to_host_async.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  ~PinnedBuffer();
  PinnedBuffer(PinnedBuffer&& other) noexcept;
  PinnedBuffer& operator=(PinnedBuffer&& other) noexcept;
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;

  static StatusOr<PinnedBuffer> allocate(size_t bytes);
  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

// n bytes from device memory to pinned host memory, queued on the stream (capturable); the data
// is there after synchronize().
Status copy_to_host_async(void* pinned_dst, const void* src, size_t n);

}  // namespace maas::cuda
