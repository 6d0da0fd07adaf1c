// graph.cc — CUDA graphs and pinned host memory (graph.h), host code over the CUDA runtime.
#include "kernels/cuda/graph.h"

#include <cuda_runtime.h>

#include <string>
#include <utility>

namespace maas::cuda {
namespace {

Status check(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return Status::Ok();
  cudaGetLastError();
  return internal_error(std::string("CUDA ") + what + ": " + cudaGetErrorString(e));
}

}  // namespace

StepGraph::~StepGraph() {
  if (exec_ != nullptr) cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(exec_));
}
StepGraph::StepGraph(StepGraph&& o) noexcept : exec_(std::exchange(o.exec_, nullptr)) {}
StepGraph& StepGraph::operator=(StepGraph&& o) noexcept {
  if (this != &o) {
    if (exec_ != nullptr) cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(exec_));
    exec_ = std::exchange(o.exec_, nullptr);
  }
  return *this;
}

Status StepGraph::launch() const {
  if (exec_ == nullptr) return internal_error("CUDA graph launch: no graph");
  return check(cudaGraphLaunch(static_cast<cudaGraphExec_t>(exec_), cudaStreamPerThread), "graph launch");
}

Status begin_capture() {
  return check(cudaStreamBeginCapture(cudaStreamPerThread, cudaStreamCaptureModeRelaxed), "begin capture");
}

StatusOr<StepGraph> end_capture() {
  cudaGraph_t graph = nullptr;
  const cudaError_t e = cudaStreamEndCapture(cudaStreamPerThread, &graph);
  if (e != cudaSuccess) {
    if (graph != nullptr) cudaGraphDestroy(graph);
    return check(e, "end capture");
  }
  cudaGraphExec_t exec = nullptr;
  const cudaError_t ie = cudaGraphInstantiate(&exec, graph, 0);
  cudaGraphDestroy(graph);
  RETURN_IF_ERROR(check(ie, "graph instantiate"));
  StepGraph g;
  g.exec_ = exec;
  return g;
}

PinnedBuffer::~PinnedBuffer() {
  if (data_ != nullptr) cudaFreeHost(data_);
}
PinnedBuffer::PinnedBuffer(PinnedBuffer&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), bytes_(std::exchange(o.bytes_, 0)) {}
PinnedBuffer& PinnedBuffer::operator=(PinnedBuffer&& o) noexcept {
  if (this != &o) {
    if (data_ != nullptr) cudaFreeHost(data_);
    data_ = std::exchange(o.data_, nullptr);
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

StatusOr<PinnedBuffer> PinnedBuffer::allocate(size_t bytes) {
  PinnedBuffer b;
  const cudaError_t e = cudaMallocHost(&b.data_, bytes);
  if (e != cudaSuccess) {
    cudaGetLastError();
    b.data_ = nullptr;
    return resource_exhausted("CUDA: cannot pin " + std::to_string(bytes) + " bytes of host memory: " + cudaGetErrorString(e));
  }
  b.bytes_ = bytes;
  return b;
}

Status copy_to_host_async(void* pinned_dst, const void* src, size_t n) {
  if (n == 0) return Status::Ok();
  return check(cudaMemcpyAsync(pinned_dst, src, n, cudaMemcpyDeviceToHost, cudaStreamPerThread), "download");
}

}  // namespace maas::cuda
