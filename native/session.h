// Session: one llama_context over a shared model, with the residual-stream capture hook
// (cb_eval on l_out-k / result_norm) and the injection hook (control vectors, plus the eval
// callback for block 0, which llama.cpp's control vectors cannot reach).
#pragma once

#include "common.h"

#include <atomic>

namespace vl {

enum class Position { Last = 0, Mean = 1, All = 2 };

// What the eval callback must collect during one llama_decode.
struct CaptureBatch {
    Position mode = Position::Last;
    int n_embd = 0;
    int n_tokens = 0;                     // tokens in this decode
    int n_outputs = 0;                    // tokens flagged as outputs
    std::vector<int> site_slot;           // site -> index into outputs, -1 when not captured
    std::vector<int> seq_start;           // per sequence: first token index in the batch
    std::vector<int> seq_len;             // per sequence: token count
    std::vector<int> seq_text;            // per sequence: index of the text it belongs to
    std::vector<int> seq_row_offset;      // per sequence (All mode): first output row in the result
    std::vector<int> out_index;           // per batch token: its row among the outputs, -1 if none
    std::vector<std::vector<float>> * outputs = nullptr;  // per slot result buffers
    std::vector<float> staging;
    std::string error;
};

struct GenSeq {
    int32_t n_past = 0;
    llama_token last = -1;
    SamplerPtr sampler;
    bool active = false;
};

struct SessionCore {
    std::shared_ptr<llama_model> model;
    ContextPtr ctx;
    int n_embd = 0;
    int n_layer = 0;
    uint32_t n_ctx = 0, n_batch = 0, n_seq_max = 0;
    bool hooks = true;

    std::atomic<bool> cancel{false};
    bool busy = false;  // touched on the JS thread only

    // Hook state, read by the eval callback on the thread running the current operation.
    CaptureBatch * capture = nullptr;
    std::vector<float> steer0;  // added to block 0's output; empty when block 0 is not steered

    std::vector<GenSeq> gen;

    int final_site() const { return n_layer; }  // sites 0..n_layer-1 are blocks, n_layer is result_norm
};

class Session : public Napi::ObjectWrap<Session> {
  public:
    static Napi::Function Define(Napi::Env env);
    static Napi::Value Create(Napi::Env env, std::shared_ptr<llama_model> model, Napi::Object opts);
    explicit Session(const Napi::CallbackInfo & info);

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

    std::shared_ptr<SessionCore> core_;
};

}  // namespace vl
