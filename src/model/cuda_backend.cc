// cuda_backend.cc — the CUDA backend (cuda_backend.h): src/kernels/cuda ops on device memory.
//
// Weights: prepare_weights checks the device's free memory, then uploads every matrix once, in
// the file's layout, into one allocation, and points the WeightMatrix at its device copy; the
// norm vectors go up too, and the ops find them by their host address. Each step, begin_step
// copies the batch's metadata (tokens, positions, block tables, logit rows) to the device in one
// transfer; the ops then only queue kernels, record the first error, and finish_step reports it.
//
// CUDA graphs (step_graph_plan.h): a decode step of n tokens is run eagerly once, captured on
// its second occurrence, and replayed after: begin_step uploads the metadata as always and picks
// the mode; during a replay the ops only count themselves (the graph already holds their
// launches) and finish_step launches the graph and copies the logits from the pinned buffer the
// graph wrote them to. A graph bakes in device addresses, so every reallocation of a buffer it
// points into (activations, metadata, logits, pinned logits, the RoPE table, the ops' scratch,
// another KV cache) drops all graphs (Context below).
#include "model/cuda_backend.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/check.h"
#include "kernels/cuda/attention_plan.h"
#include "kernels/cuda/cuda_ops.h"
#include "kernels/cuda/device_buffer.h"
#include "kernels/cuda/graph.h"
#include "model/step_graph_plan.h"

namespace maas {
namespace {

using cuda::DeviceBuffer;

std::string gib(size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(bytes) / 1073741824.0);
  return buf;
}

constexpr size_t kAlign = 256;
size_t align_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

class CudaBuffer final : public Buffer {
 public:
  CudaBuffer(DeviceBuffer mem, size_t n) : mem_(std::move(mem)) {
    data_ = static_cast<float*>(mem_.data());
    size_ = n;
  }

 private:
  DeviceBuffer mem_;
};

// K and V each [layer][block][slot][n_embd_kv] elements of F32 or F16 (kv_cache.h's layout).
class CudaKvCache final : public KvCache {
 public:
  CudaKvCache(const LlamaConfig& c, const KvCacheOptions& o, DeviceBuffer k, DeviceBuffer v,
              std::shared_ptr<size_t> counter, uint64_t id)
      : KvCache(c, o), k_(std::move(k)), v_(std::move(v)), counter_(std::move(counter)), id_(id) {
    *counter_ += bytes();
  }
  uint64_t id() const { return id_; }  // unique in the process (an address may be reused)
  ~CudaKvCache() override { *counter_ -= bytes(); }

  size_t bytes() const override { return k_.bytes() + v_.bytes(); }
  size_t elem_size() const { return type() == KvType::kF16 ? 2 : 4; }
  size_t block_bytes() const { return static_cast<size_t>(block_size()) * static_cast<size_t>(n_embd_kv()) * elem_size(); }
  size_t layer_bytes() const { return block_bytes() * static_cast<size_t>(n_blocks()); }
  void* k_block(int32_t il, int32_t block) const { return at(k_, il, block); }
  void* v_block(int32_t il, int32_t block) const { return at(v_, il, block); }
  cuda::DeviceKvLayer layer(int32_t il) const {
    return {k_block(il, 0), v_block(il, 0), type() == KvType::kF16 ? cuda::KvElem::kF16 : cuda::KvElem::kF32,
            block_size(), n_head_kv(), head_dim()};
  }

 private:
  void* at(const DeviceBuffer& b, int32_t il, int32_t block) const {
    return static_cast<uint8_t*>(b.data()) + static_cast<size_t>(il) * layer_bytes() + static_cast<size_t>(block) * block_bytes();
  }
  DeviceBuffer k_, v_;
  std::shared_ptr<size_t> counter_;  // the backend's KV bytes (the cache may outlive it)
  uint64_t id_;
};

class CudaBackend final : public Backend {
 public:
  CudaBackend(int index, const LoadOptions& o)
      : index_(index), fraction_(o.gpu_memory_fraction), plan_(o.cuda_graphs) {}

  std::string name() const override { return "cuda:" + std::to_string(index_); }
  int n_threads() const override { return 1; }

  Status prepare_weights(LlamaWeights& w, const GgufFile& file, const LoadOptions& o) override;

  std::unique_ptr<Buffer> allocate(size_t n_floats) override {
    bind();
    auto mem = DeviceBuffer::allocate(std::max<size_t>(n_floats, 1) * sizeof(float));
    CHECK_MSG(mem.ok(), ("activation buffer on " + name() + ": " + mem.status().to_string()).c_str());
    ++reallocations_;
    return std::make_unique<CudaBuffer>(std::move(*mem), n_floats);
  }

  StatusOr<std::unique_ptr<KvCache>> allocate_kv_cache(const LlamaConfig& c, const KvCacheOptions& o) override {
    if (o.type != KvType::kF32 && o.type != KvType::kF16) {
      return unimplemented(std::string("the CUDA backend stores the KV cache as f32 or f16, not ") + kv_type_name(o.type));
    }
    if (o.n_blocks <= 0 || o.block_size <= 0) return invalid_argument("the KV cache needs blocks of slots");
    RETURN_IF_ERROR(bind_status());
    const size_t half = kv_block_bytes(c, o.block_size, o.type) / 2 * static_cast<size_t>(o.n_blocks);
    auto k = DeviceBuffer::allocate(half);
    if (!k.ok()) return resource_exhausted("KV cache of " + gib(2 * half) + " on " + name() + ": " + k.status().message());
    auto v = DeviceBuffer::allocate(half);
    if (!v.ok()) return resource_exhausted("KV cache of " + gib(2 * half) + " on " + name() + ": " + v.status().message());
    return std::unique_ptr<KvCache>(std::make_unique<CudaKvCache>(c, o, std::move(*k), std::move(*v), kv_bytes_, ++kv_ids_));
  }

  void copy_kv_block(KvCache& cache, int32_t src, int32_t dst, int32_t n_slots) override {
    bind();
    const CudaKvCache& kv = device(cache);
    const size_t n = static_cast<size_t>(n_slots) * static_cast<size_t>(kv.n_embd_kv()) * kv.elem_size();
    for (int32_t il = 0; il < kv.n_layer(); ++il) {
      record(cuda::copy_device(kv.k_block(il, dst), kv.k_block(il, src), n));
      record(cuda::copy_device(kv.v_block(il, dst), kv.v_block(il, src), n));
    }
  }

  bool device_memory(DeviceMemory* out) const override {
    size_t free_bytes = 0, total = 0;
    if (!cuda::set_device(index_).ok() || !cuda::memory_info(&free_bytes, &total).ok()) return false;
    *out = {total, total - free_bytes, weights_bytes_, *kv_bytes_};
    return true;
  }

  int64_t kv_cache_budget_bytes() const override {
    DeviceMemory m;
    if (!device_memory(&m)) return 0;
    const double budget = fraction_ * static_cast<double>(m.total) - static_cast<double>(m.used);
    return budget > 0 ? static_cast<int64_t>(budget) : 0;
  }

  void begin_step(const Batch& batch, const KvCache& cache) override;
  Status finish_step() override;
  // begin_step's last part: the step's graph key and mode; starts a capture.
  void plan_graph(const Batch& batch, const KvCache& cache);

  void embed(const WeightMatrix& table, const Batch& batch, float* x) override {
    if (replaying()) return;
    record(cuda::embed(table.type, table.data, table.n_cols, tokens_.tokens, static_cast<int64_t>(batch.tokens.size()), x));
  }
  void rms_norm(const float* x, const float* w, float* out, int64_t n, int64_t d, float eps) override {
    if (replaying()) return;
    auto it = norms_.find(w);
    if (it == norms_.end()) return record(invalid_argument("rms_norm: a norm vector that prepare_weights did not upload"));
    record(cuda::rms_norm(x, it->second, out, n, d, eps));
  }
  void matmul(const WeightMatrix& w, const float* x, int64_t n, float* y) override {
    if (replaying()) return;
    record(cuda::matmul(matrix(w), x, n, y));
  }
  void matmul_many(std::initializer_list<MatmulOut> outs, const float* x, int64_t n) override {
    if (replaying()) return;
    cuda::MatmulTarget targets[4];
    int count = 0;
    for (const MatmulOut& o : outs) {
      if (count == 4) return record(invalid_argument("matmul_many: more than four products"));
      targets[count++] = {matrix(*o.w), o.y};
    }
    record(cuda::matmul_many(targets, count, x, n));
  }
  void matmul_add(const WeightMatrix& w, const float* x, int64_t n, float* y, float* scratch) override {
    (void)scratch;
    if (replaying()) return;
    record(cuda::matmul_add(matrix(w), x, n, y));
  }
  void matmul_swiglu(const WeightMatrix& gate, const WeightMatrix& up, const float* x, int64_t n, float* out,
                     float* up_out) override {
    if (replaying()) return;
    record(cuda::matmul_swiglu(matrix(gate), matrix(up), x, n, out, up_out));
  }
  void silu_mul(const float* gate, const float* up, float* out, int64_t n) override {
    if (replaying()) return;
    record(cuda::silu_mul(gate, up, out, n));
  }
  void add(float* y, const float* x, int64_t n) override {
    if (replaying()) return;
    record(cuda::add(y, x, n));
  }

  void rope_store_kv(const Batch& batch, int32_t layer, const Rope& rope, float* q, float* k, const float* v,
                     KvCache& cache) override {
    (void)batch;
    if (replaying()) return;
    if (rope_of_ != &rope) {  // the model's table, uploaded once
      const std::vector<double>& f = rope.inv_freq();
      auto mem = DeviceBuffer::allocate(std::max<size_t>(f.size(), 1) * sizeof(double));
      if (!mem.ok()) return record(mem.status());
      rope_table_ = std::move(*mem);
      record(rope_table_.upload(f.data(), f.size() * sizeof(double)));
      rope_of_ = &rope;
      ++reallocations_;
    }
    record(cuda::rope_store_kv(static_cast<const double*>(rope_table_.data()), rope.n_rot(), q, rope.n_head(), k, v,
                               device(cache).layer(layer), tokens_));
  }
  void attention(const Batch& batch, int32_t layer, const float* q, int32_t n_head, KvCache& cache,
                 float* out) override {
    if (replaying()) return;
    const CudaKvCache& kv = device(cache);
    // begin_step plans the step's attention once it knows n_head (from the first step on); the
    // first step ever plans here (it is never a graph step: a token count runs eagerly first).
    if (layer == 0 && !attn_planned_) {
      n_head_ = n_head;
      plan_step_attention(batch, kv);
    }
    if (!error_.ok()) return;
    record(cuda::attention(q, n_head, kv.layer(layer), tokens_, attn_plan_,
                           1.0f / std::sqrt(static_cast<float>(kv.head_dim())), out));
  }
  void gather_logit_rows(const Batch& batch, const float* x, int64_t d, float* out) override {
    if (replaying()) return;
    record(cuda::gather_rows(x, logit_rows_, n_logit_rows(batch), d, out));
  }
  // Eager: the product, then a synchronous copy to host_logits. A graph step (captured or
  // replayed) copies into the pinned buffer inside the graph; finish_step copies on to host_logits.
  void logits(const WeightMatrix& w, const float* x, int64_t rows, float* host_logits) override;

 private:
  static const CudaKvCache& device(const KvCache& cache) { return static_cast<const CudaKvCache&>(cache); }
  static cuda::DeviceMatrix matrix(const WeightMatrix& w) { return {w.type, w.data, w.n_rows, w.n_cols}; }
  // The engine drives the backend from its own thread: make this backend's device current there.
  Status bind_status() const { return cuda::set_device(index_); }
  void bind() { record(bind_status()); }
  void record(Status s) {
    if (error_.ok() && !s.ok()) error_ = std::move(s);
  }
  // In a replayed step the ops only count themselves (finish_step checks the count).
  bool replaying() {
    ++step_ops_;
    return mode_ == StepMode::kReplay;
  }
  // What the captured graphs point into; a change drops them all.
  // The attention plan's split geometry is part of it: a graph's split kernel grid covers the
  // context bound it was captured with.
  struct Context {
    uint64_t reallocations = 0, scratch = 0, cache = 0;
    int64_t attn_split_size = 0, attn_max_splits = 0;
    bool operator==(const Context&) const = default;
  };
  // The step's attention plan (kernels/cuda/attention_plan.h: which tokens take the split decode
  // kernel, which the tiled prefill one): made once per step before any op (begin_step, so never
  // inside a graph capture), its indices uploaded (none for a pure decode step) and the split
  // kernel's workspace grown to fit. The context bound is the step's longest context rounded up
  // to a power of two; graphs are dropped when it changes (Context), so that happens a few times.
  void plan_step_attention(const Batch& batch, const CudaKvCache& kv) {
    const int32_t n_head = n_head_;
    std::vector<cuda::AttentionSeqSpan> spans;
    for (const BatchSequence& s : batch.seqs) {
      if (s.n_tokens > 0) spans.push_back({s.n_past, s.n_tokens});
    }
    auto plan = cuda::plan_attention(spans, {n_head, kv.n_head_kv(), kv.head_dim()}, 0);
    if (!plan.ok()) return record(plan.status());
    // The workspace grows by half at least: batches grow a sequence at a time.
    if (attn_workspace_.bytes() < plan->workspace_bytes) {
      const size_t bytes = std::max(plan->workspace_bytes, attn_workspace_.bytes() + attn_workspace_.bytes() / 2);
      attn_workspace_ = DeviceBuffer();  // free the old one first
      auto mem = DeviceBuffer::allocate(bytes);
      if (!mem.ok()) return record(mem.status());
      attn_workspace_ = std::move(*mem);
      ++reallocations_;
    }
    const std::vector<int32_t> indices = plan->device_indices();
    if (attn_indices_.bytes() < indices.size() * sizeof(int32_t)) {
      auto mem = DeviceBuffer::allocate(std::max<size_t>(2 * indices.size() * sizeof(int32_t), 4096));
      if (!mem.ok()) return record(mem.status());
      attn_indices_ = std::move(*mem);
      ++reallocations_;
    }
    if (!indices.empty()) record(attn_indices_.upload(indices.data(), indices.size() * sizeof(int32_t)));
    attn_plan_ = cuda::device_plan(*plan, static_cast<const int32_t*>(attn_indices_.data()),
                                   static_cast<float*>(attn_workspace_.data()), attn_workspace_.bytes());
  }

  int index_;
  double fraction_;
  Status error_ = Status::Ok();       // the first error of this step
  DeviceBuffer weights_;              // every matrix, 256-byte aligned
  std::vector<DeviceBuffer> norm_mem_;
  std::unordered_map<const float*, const float*> norms_;  // host norm vector -> its device copy
  size_t weights_bytes_ = 0;
  std::shared_ptr<size_t> kv_bytes_ = std::make_shared<size_t>(0);
  const Rope* rope_of_ = nullptr;
  DeviceBuffer rope_table_;  // rope_of_->inv_freq()
  // The step's metadata (begin_step): one device buffer, and views into it.
  std::vector<int32_t> meta_host_;
  DeviceBuffer meta_;
  struct StepTokens : cuda::DeviceTokens {
    const int32_t* tokens = nullptr;
  } tokens_;
  const int32_t* logit_rows_ = nullptr;
  DeviceBuffer logits_;

  // CUDA graphs of decode steps, by token count.
  struct CapturedStep {
    cuda::StepGraph graph;
    int64_t n_ops = 0;  // ops the captured step issued
  };
  StepGraphPlan plan_;
  std::unordered_map<int64_t, CapturedStep> graphs_;
  Context graph_context_;
  uint64_t reallocations_ = 0;  // of buffers this backend owns that a graph may point into
  uint64_t kv_ids_ = 0;
  StepMode mode_ = StepMode::kEager;
  int64_t key_ = 0;       // this step's graph key (step_graph_plan.h), 0 for none
  int64_t step_ops_ = 0;  // ops issued in this step
  cuda::PinnedBuffer pinned_logits_;
  float* host_logits_ = nullptr;  // this graph step's destination, and its bytes
  size_t host_logits_bytes_ = 0;
  // The step's attention plan (plan_step_attention) and what it points at.
  cuda::DeviceAttentionPlan attn_plan_;
  DeviceBuffer attn_indices_, attn_workspace_;
  int32_t n_head_ = 0;         // query heads (the first step's attention call tells)
  bool attn_planned_ = false;  // this step's plan is made
};

Status CudaBackend::prepare_weights(LlamaWeights& w, const GgufFile& file, const LoadOptions& o) {
  (void)file;
  (void)o;
  RETURN_IF_ERROR(bind_status());
  const bool tied = w.output.data == w.token_embd.data;
  std::vector<WeightMatrix*> mats = {&w.token_embd};
  if (!tied) mats.push_back(&w.output);
  for (LlamaLayerWeights& l : w.layers) {
    for (WeightMatrix* m : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) mats.push_back(m);
  }
  std::vector<std::vector<float>*> norms = {&w.output_norm};
  for (LlamaLayerWeights& l : w.layers) {
    norms.push_back(&l.attn_norm);
    norms.push_back(&l.ffn_norm);
  }
  size_t total = 0;
  for (const WeightMatrix* m : mats) {
    if (!cuda::supports_weight_type(m->type)) {
      return unimplemented("the CUDA backend has no kernel for " + std::string(ggml_type_name(m->type)) + " weights");
    }
    if (m->layout != WeightLayout::kRows) return internal_error("the CUDA backend reads weights in the file's row layout");
    total += align_up(m->bytes());
  }
  size_t norm_bytes = 0;
  for (const std::vector<float>* v : norms) norm_bytes += align_up(v->size() * sizeof(float));
  size_t free_bytes = 0, device_total = 0;
  RETURN_IF_ERROR(cuda::memory_info(&free_bytes, &device_total));
  const size_t needed = total + norm_bytes;
  if (needed > free_bytes) {
    return resource_exhausted("the model's weights need " + gib(needed) + " of device memory; " + name() + " (" +
                              cuda::device_name() + ") has " + gib(free_bytes) + " free of " + gib(device_total));
  }
  ASSIGN_OR_RETURN(weights_, DeviceBuffer::allocate(std::max<size_t>(total, 1)));
  size_t offset = 0;
  for (WeightMatrix* m : mats) {
    uint8_t* dst = static_cast<uint8_t*>(weights_.data()) + offset;
    RETURN_IF_ERROR(cuda::copy_to_device(dst, m->data, m->bytes()));
    m->data = dst;
    offset += align_up(m->bytes());
  }
  if (tied) w.output = w.token_embd;
  for (const std::vector<float>* v : norms) {
    ASSIGN_OR_RETURN(DeviceBuffer mem, DeviceBuffer::allocate(std::max<size_t>(v->size(), 1) * sizeof(float)));
    RETURN_IF_ERROR(mem.upload(v->data(), v->size() * sizeof(float)));
    norms_[v->data()] = static_cast<const float*>(mem.data());
    norm_mem_.push_back(std::move(mem));
  }
  weights_bytes_ = needed;
  return Status::Ok();
}

// meta_host_: tokens [n] | pos [n] | table_offset [n] | logit rows [r] | every block table.
void CudaBackend::begin_step(const Batch& batch, const KvCache& cache) {
  bind();
  step_ops_ = 0;
  const size_t n = batch.tokens.size(), r = static_cast<size_t>(n_logit_rows(batch));
  meta_host_.assign(batch.tokens.begin(), batch.tokens.end());
  meta_host_.resize(3 * n + r);
  int32_t* pos = meta_host_.data() + n;
  int32_t* off = pos + n;
  int32_t* rows = off + n;
  int64_t t = 0, row = 0;
  int32_t table_at = 0;
  for (const BatchSequence& s : batch.seqs) {
    for (int32_t j = 0; j < s.n_tokens; ++j, ++t) {
      pos[t] = s.n_past + j;
      off[t] = table_at;
      if (s.all_logits || j == s.n_tokens - 1) rows[row++] = static_cast<int32_t>(t);
    }
    table_at += s.n_table;
  }
  for (const BatchSequence& s : batch.seqs) meta_host_.insert(meta_host_.end(), s.block_table, s.block_table + s.n_table);
  const size_t bytes = meta_host_.size() * sizeof(int32_t);
  if (meta_.bytes() < bytes) {
    auto mem = DeviceBuffer::allocate(std::max<size_t>(2 * bytes, 4096));
    if (!mem.ok()) return record(mem.status());
    meta_ = std::move(*mem);
    ++reallocations_;
  }
  record(meta_.upload(meta_host_.data(), bytes));
  const int32_t* d = static_cast<const int32_t*>(meta_.data());
  tokens_.tokens = d;
  tokens_.pos = d + n;
  tokens_.table_offset = d + 2 * n;
  logit_rows_ = d + 3 * n;
  tokens_.tables = d + 3 * n + r;
  tokens_.n = static_cast<int64_t>(n);
  attn_planned_ = false;
  if (n_head_ > 0 && error_.ok()) {
    plan_step_attention(batch, device(cache));
    attn_planned_ = true;
  }
  plan_graph(batch, cache);
}

void CudaBackend::plan_graph(const Batch& batch, const KvCache& cache) {
  mode_ = StepMode::kEager;
  key_ = plan_.key(batch);
  if (key_ == 0 || !error_.ok()) return;
  const Context now{reallocations_, cuda::scratch_generation(), device(cache).id(), attn_plan_.split_size,
                    attn_plan_.max_splits};
  if (!(now == graph_context_)) {
    graphs_.clear();
    plan_.reset();
    graph_context_ = now;
  }
  mode_ = plan_.mode(key_, graphs_.count(key_) != 0);
  if (mode_ == StepMode::kCapture) {
    const Status s = cuda::begin_capture();
    if (!s.ok()) {
      plan_.failed(key_);
      mode_ = StepMode::kEager;
    }
  }
}

void CudaBackend::logits(const WeightMatrix& w, const float* x, int64_t rows, float* host_logits) {
  const size_t bytes = static_cast<size_t>(rows) * static_cast<size_t>(w.n_rows) * sizeof(float);
  // Buffers a graph writes grow at once to the largest graph step (kMaxGraphTokens rows), so that
  // growing them does not drop every graph again as the batch grows.
  const size_t graph_bytes = std::max(bytes, static_cast<size_t>(kMaxGraphTokens) * static_cast<size_t>(w.n_rows) * sizeof(float));
  if (key_ != 0 && mode_ == StepMode::kEager && pinned_logits_.bytes() < bytes) {  // before the capture needs it
    auto mem = cuda::PinnedBuffer::allocate(graph_bytes);
    if (!mem.ok()) return record(mem.status());
    pinned_logits_ = std::move(*mem);
    ++reallocations_;
  }
  host_logits_ = host_logits;
  host_logits_bytes_ = bytes;
  if (replaying()) return;
  if (logits_.bytes() < bytes) {
    auto mem = DeviceBuffer::allocate(key_ != 0 ? graph_bytes : bytes);
    if (!mem.ok()) return record(mem.status());
    logits_ = std::move(*mem);
    ++reallocations_;
  }
  float* y = static_cast<float*>(logits_.data());
  record(cuda::matmul(matrix(w), x, rows, y));
  if (!error_.ok()) return;
  if (mode_ == StepMode::kCapture) {
    if (pinned_logits_.bytes() < bytes) return record(internal_error("CUDA graph capture: no pinned logits buffer"));
    record(cuda::copy_to_host_async(pinned_logits_.data(), y, bytes));
  } else {
    record(cuda::copy_to_host(host_logits, y, bytes));
  }
}

Status CudaBackend::finish_step() {
  Status s = std::move(error_);
  error_ = Status::Ok();
  const StepMode mode = std::exchange(mode_, StepMode::kEager);
  if (mode == StepMode::kCapture) {  // end the capture whatever happened in it
    auto graph = cuda::end_capture();
    if (s.ok() && !graph.ok()) {
      plan_.failed(key_);
      s = Status(graph.status().code(), graph.status().message() + " (capturing a decode step of " + std::to_string(key_) +
                                            " tokens; --cuda-graphs off runs every step eagerly)");
    }
    if (s.ok()) graphs_[key_] = {std::move(*graph), step_ops_};
  }
  if (!s.ok()) return s;
  if (mode == StepMode::kEager) return cuda::synchronize();
  const CapturedStep& step = graphs_.at(key_);
  if (step_ops_ != step.n_ops) {
    return internal_error("CUDA graph replay: the step issued " + std::to_string(step_ops_) + " ops, the captured one " +
                          std::to_string(step.n_ops));
  }
  RETURN_IF_ERROR(step.graph.launch());
  RETURN_IF_ERROR(cuda::synchronize());
  std::memcpy(host_logits_, pinned_logits_.data(), host_logits_bytes_);
  return Status::Ok();
}

}  // namespace

StatusOr<std::unique_ptr<Backend>> make_cuda_backend(int index, const LoadOptions& options) {
  const int n = cuda::device_count();
  if (n == 0) return unavailable("device 'cuda:" + std::to_string(index) + "': no CUDA device (no driver, or none present)");
  RETURN_IF_ERROR(cuda::set_device(index));
  return std::unique_ptr<Backend>(std::make_unique<CudaBackend>(index, options));
}

}  // namespace maas
