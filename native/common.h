// Shared declarations for the valuelens addon: RAII owners for llama.cpp objects, error capture
// from llama.cpp's log, and small Node-API helpers.
#pragma once

#include <napi.h>

#include "llama.h"

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace vl {

struct ModelFree {
    void operator()(llama_model * m) const { llama_model_free(m); }
};
struct ContextFree {
    void operator()(llama_context * c) const { llama_free(c); }
};
struct SamplerFree {
    void operator()(llama_sampler * s) const { llama_sampler_free(s); }
};
struct BatchOwner {
    llama_batch batch{};
    explicit BatchOwner(int32_t n_tokens) : batch(llama_batch_init(n_tokens, 0, 1)) {}
    ~BatchOwner() { llama_batch_free(batch); }
    BatchOwner(const BatchOwner &) = delete;
    BatchOwner & operator=(const BatchOwner &) = delete;
    void clear() { batch.n_tokens = 0; }
    void add(llama_token tok, llama_pos pos, llama_seq_id seq, bool output) {
        const int32_t i = batch.n_tokens++;
        batch.token[i] = tok;
        batch.pos[i] = pos;
        batch.n_seq_id[i] = 1;
        batch.seq_id[i][0] = seq;
        batch.logits[i] = output ? 1 : 0;
    }
};

using ContextPtr = std::unique_ptr<llama_context, ContextFree>;
using SamplerPtr = std::unique_ptr<llama_sampler, SamplerFree>;

// llama.cpp reports failures through its log; the last error lines of the calling thread are kept
// so that a failing call can quote them in its JS error.
void install_log_handler();
std::string take_log_errors();
void clear_log_errors();

// An error thrown on a worker thread, carried to JS as an Error with this message.
struct Failure : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// Message for a failing llama.cpp call: what we were doing plus whatever llama.cpp logged.
std::string with_log(const std::string & what);

std::vector<llama_token> tokenize(const llama_vocab * vocab, const std::string & text, bool add_special, bool parse_special);
std::string detokenize(const llama_vocab * vocab, const llama_token * tokens, size_t n, bool remove_special, bool unparse_special);

// Hands a vector to JS as a Float32Array, without copying where the runtime allows external
// buffers (Electron's V8 sandbox refuses them: then the data is copied).
Napi::Float32Array to_float32_array(Napi::Env env, std::vector<float> && data);
Napi::Int32Array to_int32_array(Napi::Env env, const std::vector<int32_t> & data);

// Drops a reference to a llama.cpp object; when it is the last one, the object is freed on a
// libuv worker thread (freeing a context or model takes long enough to stall the event loop).
template <typename T>
class ReleaseWorker : public Napi::AsyncWorker {
  public:
    ReleaseWorker(Napi::Env env, std::shared_ptr<T> p) : Napi::AsyncWorker(env, "valuelens.release"), p_(std::move(p)) {}
    void Execute() override { p_.reset(); }
    void OnOK() override {}
    void OnError(const Napi::Error &) override {}

  private:
    std::shared_ptr<T> p_;
};

// True once an rpc-server host was added: remote buffers must then be freed before dispose() returns (a
// server stopped right after dispose would otherwise see the free arrive late, and ggml's RPC client aborts).
bool rpc_in_use();

template <typename T>
void release_off_thread(Napi::Env env, std::shared_ptr<T> & p) {
    if (p && p.use_count() == 1 && !rpc_in_use()) (new ReleaseWorker<T>(env, std::move(p)))->Queue();  // self-deleting
    p.reset();
}

// Test-only fault injection, read from VALUELENS_FAULT at each use: "eval-callback" makes the eval
// callback throw, "external-buffer" treats external ArrayBuffers as refused, "result" makes building
// a worker's JS result throw. Lets tests reach error paths that real inputs cannot.
bool fault(const char * name);

// Per-addon-instance constructors (so worker threads and multiple environments stay separate).
struct AddonData {
    Napi::FunctionReference model_ctor;
    Napi::FunctionReference session_ctor;
};

// Starts an async worker and returns its promise. Node-API's AsyncWorker deletes itself after OnOK/OnError, so
// this is the one place that allocates one.
template <class Worker, class... Args>
Napi::Promise queue_worker(Napi::Env env, Args &&... args) {
    auto * worker = new Worker(env, std::forward<Args>(args)...);
    Napi::Promise p = worker->promise();
    worker->Queue();
    return p;
}

// Every token id in [0, n_vocab), else a Failure: "<what>token id N outside the vocabulary".
void check_token_ids(const std::vector<llama_token> & tokens, int n_vocab, const std::string & what);

}  // namespace vl
