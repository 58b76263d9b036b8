// The eval callback: the capture hook (reads l_out-k / result_norm rows), the block-0 injection
// hook, and the checks that make a decode fail instead of returning silently wrong numbers
// (every requested site fires exactly once per decode, steering reaches every steered block).
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
    std::vector<int> seq_row;             // per sequence: its first row in the slot buffers
    std::vector<int> out_index;           // per batch token: its row among the outputs, -1 if none
    std::vector<std::vector<float>> * outputs = nullptr;  // per slot result rows of this micro-batch
    int stop_site = -1;                   // the graph is stopped after this site fired (-1: never)
    std::vector<int> hits;                // per site: times it fired in this decode
    bool stopped = false;                 // set when the graph was cut short after stop_site
    std::vector<float> staging;
    std::vector<double> acc;
    std::string error;
};

// Per-decode record of what the injection hook and the control vector did.
struct SteerCheck {
    std::vector<int> applied;      // per block: l_out nodes seen with a control-vector add
    std::vector<int> missing;      // per block: l_out nodes seen without one
    int block0_hits = 0;           // times the block-0 vector was added
    void reset(size_t n_layer) {
        applied.assign(n_layer, 0);
        missing.assign(n_layer, 0);
        block0_hits = 0;
    }
};

// State the callback reads and writes; owned by the session, touched only by the thread running
// the current operation (the abort flags are also set from the JS thread).
struct HookState {
    int n_layer = 0;
    int n_embd = 0;
    CaptureBatch * capture = nullptr;
    std::vector<float> steer0;          // added to block 0's output; empty when block 0 is not steered
    std::vector<char> steered;          // per block (>= 1): a control vector is set for it
    SteerCheck check;
    std::string error;                  // an exception caught inside the callback
    std::atomic<bool> cancel{false};    // the caller asked to stop
    std::atomic<bool> stop_graph{false};  // capture has all it needs: skip the rest of the graph
    int graph_top = -1;  // graph-output capture: the graph ends at this site (-1: it runs to its end)
};

// Native site of a graph tensor name: 0..n_layer-1 for l_out-k, n_layer for result_norm, else -1.
int site_of(const char * name, int n_layer);

// ggml eval callback (cb_eval); never throws.
bool eval_callback(ggml_tensor * t, bool ask, void * user_data) noexcept;
// llama abort callback; true when cancelled or when capture has stopped the graph early.
bool abort_callback(void * user_data) noexcept;

// Points the hooks at a capture for the duration of one decode, and always detaches it
// (the CaptureBatch lives on the worker's stack).
class CaptureScope {
  public:
    CaptureScope(HookState & h, CaptureBatch & cap);
    ~CaptureScope();
    CaptureScope(const CaptureScope &) = delete;
    CaptureScope & operator=(const CaptureScope &) = delete;

  private:
    HookState & h_;
};

// Runs llama_decode with the hook state reset; C++ exceptions never reach llama.cpp's C frames,
// and errors caught in the callback or a steering vector that did not apply become a Failure.
// Returns llama_decode's code (0 ok, 1 no KV slot, 2 aborted, <0 error), with 2 turned into 0
// when capture stopped the graph early on purpose.
int32_t checked_decode(llama_context * ctx, const llama_batch & batch, HookState & h, bool hooks, const std::string & arch);

}  // namespace vl
