// Session: one llama_context over a shared model, with the residual-stream capture hook
// (cb_eval on l_out-k / result_norm) and steering through llama.cpp control vectors (block 0
// included with patch 21; otherwise block 0 through the eval callback).
#pragma once

#include "common.h"
#include "hooks.h"

namespace vl {

struct GenSeq {
    int32_t n_past = 0;
    llama_token last = -1;
    SamplerPtr sampler;
    bool active = false;
};

// The context's CPU worker threads, kept for its lifetime. Without OpenMP (the portable build) ggml would
// otherwise start and join its workers for every graph, i.e. every generated token. The functions come from
// the CPU backend (a runtime-loaded library in portable builds), hence the pointers.
struct Threadpool {
    ggml_threadpool_t tp = nullptr;
    void (*free_fn)(ggml_threadpool_t) = nullptr;
    Threadpool() = default;
    Threadpool(const Threadpool &) = delete;
    Threadpool & operator=(const Threadpool &) = delete;
    ~Threadpool() {
        if (tp && free_fn) free_fn(tp);
    }
};

struct SessionCore {
    std::shared_ptr<llama_model> model;
    Threadpool threadpool;  // declared before ctx: destroyed after it
    ContextPtr ctx;
    std::string arch;
    int n_embd = 0;
    int n_layer = 0;
    uint32_t n_ctx = 0, n_batch = 0, n_seq_max = 0;
    int32_t n_threads = 0;
    bool hooks = true;
    // Capture as graph outputs (patch 22: the sites gathered on the device, one copy per micro-batch) instead of
    // through the eval callback; see Session::Create for how it is chosen.
    bool capture_graph = false;
    // Recurrent and hybrid memories split a decode by sequence into several micro-batches, so
    // capture decodes one sequence at a time there (rows then follow batch order).
    bool split_by_sequence = false;
    int64_t external_bytes = 0;  // reported to V8 with napi_adjust_external_memory
    // Layers on a GPU device: without patch 23, a steering change after a decode gets a fresh context (see Session::SetSteering).
    bool offloaded = false;
    bool decoded = false;  // a decode ran on this context since it was created
    llama_context_params cparams{};

    bool busy = false;  // touched on the JS thread only

    HookState h;  // the eval callback's state (capture, block-0 steering, checks, cancel)

    // Generation state; ended (cleared) by every operation that clears the memory.
    std::vector<GenSeq> gen;
    void end_generation() { gen.clear(); }

    ~SessionCore() {
        ctx.reset();  // before the model it was created from
    }

    int final_site() const { return n_layer; }  // sites 0..n_layer-1 are blocks, n_layer is result_norm
};

class Session : public Napi::ObjectWrap<Session> {
  public:
    static Napi::Function Define(Napi::Env env);
    static Napi::Value Create(Napi::Env env, std::shared_ptr<llama_model> model, Napi::Object opts, bool offloaded);
    explicit Session(const Napi::CallbackInfo & info);
    ~Session() override;

  private:
    Napi::Value Info(const Napi::CallbackInfo & info);
    Napi::Value Capture(const Napi::CallbackInfo & info);
    Napi::Value SetSteering(const Napi::CallbackInfo & info);
    Napi::Value Logprobs(const Napi::CallbackInfo & info);
    Napi::Value GenStart(const Napi::CallbackInfo & info);
    Napi::Value GenStep(const Napi::CallbackInfo & info);
    Napi::Value GenStop(const Napi::CallbackInfo & info);
    Napi::Value Cancel(const Napi::CallbackInfo & info);
    Napi::Value Dispose(const Napi::CallbackInfo & info);

    SessionCore & acquire(Napi::Env env);  // checks the session is alive and idle, marks it busy
    void release(Napi::Env env);           // drops this object's reference (dispose or finalizer)

    std::shared_ptr<SessionCore> core_;
};

}  // namespace vl
