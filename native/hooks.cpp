#include "hooks.h"

#include <cstring>

namespace vl {

int site_of(const char * name, int n_layer) {
    if (std::strncmp(name, "l_out-", 6) == 0) {
        char * end = nullptr;
        long b = std::strtol(name + 6, &end, 10);
        if (end && end != name + 6 && *end == '\0' && b >= 0 && b < n_layer) return (int) b;
        return -1;
    }
    if (std::strcmp(name, "result_norm") == 0) return n_layer;
    return -1;
}

namespace {

bool on_host(const ggml_tensor * t) { return t->buffer && ggml_backend_buffer_is_host(t->buffer); }

// The tensor's rows as one float array (row r at r * ne[0]; collect() has checked it is contiguous F32): the
// tensor's own memory when it is in host memory, no copy made; otherwise (a device buffer, which cannot be read in
// place) a copy of the whole tensor into `staging`, whose data is what is returned.
const float * tensor_rows(ggml_tensor * t, std::vector<float> & staging) {
    if (on_host(t)) return static_cast<const float *>(t->data);
    staging.resize((size_t) ggml_nelements(t));
    ggml_backend_tensor_get(t, staging.data(), 0, ggml_nbytes(t));
    return staging.data();
}

void apply_steer0(ggml_tensor * t, const std::vector<float> & v) {
    const int64_t n_embd = t->ne[0], rows = t->ne[1];
    if (on_host(t)) {
        for (int64_t r = 0; r < rows; r++) {
            float * row = reinterpret_cast<float *>(static_cast<char *>(t->data) + r * t->nb[1]);
            for (int64_t j = 0; j < n_embd; j++) row[j] += v[(size_t) j];
        }
        return;
    }
    std::vector<float> buf((size_t) ggml_nelements(t));
    ggml_backend_tensor_get(t, buf.data(), 0, ggml_nbytes(t));
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < n_embd; j++) buf[(size_t) (r * n_embd + j)] += v[(size_t) j];
    ggml_backend_tensor_set(t, buf.data(), 0, ggml_nbytes(t));
}

// llama.cpp adds a control vector as ggml_add(cur, direction) right before naming the block's
// output l_out-k; the direction is an unnamed 1-D F32 leaf of n_embd. Looks a few ops back in case
// an architecture names a tensor computed from the sum.
bool has_cvec_add(const ggml_tensor * t, int n_embd, int depth = 3) {
    for (int d = 0; t && d < depth; d++, t = t->src[0]) {
        if (t->op != GGML_OP_ADD) continue;
        const ggml_tensor * v = t->src[1];
        if (v && v->type == GGML_TYPE_F32 && v->ne[0] == n_embd && v->ne[1] == 1 && v->ne[2] == 1 && v->ne[3] == 1 && v->op == GGML_OP_NONE)
            return true;
    }
    return false;
}

void collect(CaptureBatch & cap, ggml_tensor * t, int slot) {
    if (t->type != GGML_TYPE_F32 || t->ne[0] != cap.n_embd || !ggml_is_contiguous(t)) {
        cap.error = std::string("unexpected layout of tensor ") + t->name;
        return;
    }
    const int64_t rows = t->ne[1];
    // The last block and the final norm are computed only for rows flagged as outputs.
    const bool all_rows = rows == cap.n_tokens;
    if (!all_rows && rows != cap.n_outputs) {
        cap.error = std::string("tensor ") + t->name + " has " + std::to_string(rows) + " rows, expected " +
                    std::to_string(cap.n_tokens) + " or " + std::to_string(cap.n_outputs);
        return;
    }
    auto row_of = [&](int tok) { return all_rows ? tok : cap.out_index[(size_t) tok]; };
    const size_t d = (size_t) cap.n_embd;
    std::vector<float> & out = (*cap.outputs)[(size_t) slot];

    if (cap.mode == Position::Last) {
        for (size_t s = 0; s < cap.seq_start.size(); s++) {
            const int r = row_of(cap.seq_start[s] + cap.seq_len[s] - 1);
            if (r < 0) {
                cap.error = "a last token was not flagged as an output";
                return;
            }
            float * dst = out.data() + (size_t) cap.seq_row[s] * d;
            if (on_host(t)) {
                std::memcpy(dst, static_cast<const char *>(t->data) + (size_t) r * t->nb[1], d * sizeof(float));
            } else {
                ggml_backend_tensor_get(t, dst, (size_t) r * t->nb[1], d * sizeof(float));
            }
        }
        return;
    }
    const float * src = tensor_rows(t, cap.staging);
    for (size_t s = 0; s < cap.seq_start.size(); s++) {
        const int start = cap.seq_start[s], len = cap.seq_len[s];
        for (int j = 0; j < len; j++) {
            if (row_of(start + j) < 0) {
                cap.error = "a token needed for capture was not flagged as an output";
                return;
            }
        }
        float * dst = out.data() + (size_t) cap.seq_row[s] * d;
        if (cap.mode == Position::Mean) {
            cap.acc.assign(d, 0.0);
            for (int j = 0; j < len; j++) {
                const float * row = src + (size_t) row_of(start + j) * d;
                for (size_t k = 0; k < d; k++) cap.acc[k] += row[k];
            }
            for (size_t k = 0; k < d; k++) dst[k] = (float) (cap.acc[k] / len);
        } else {
            for (int j = 0; j < len; j++) std::memcpy(dst + (size_t) j * d, src + (size_t) row_of(start + j) * d, d * sizeof(float));
        }
    }
}

bool eval_impl(ggml_tensor * t, bool ask, HookState & h) {
    const int site = site_of(t->name, h.n_layer);
    if (site < 0) return !ask;  // decline: the graph is split only where we look
    CaptureBatch * cap = h.capture;
    const int slot = cap && site < (int) cap->site_slot.size() ? cap->site_slot[(size_t) site] : -1;
    const bool steer0 = site == 0 && !h.steer0.empty();
    if (ask) {
        // Seen once per graph node before it runs: verify the control vector is where we expect it.
        if (site < h.n_layer && h.steered[(size_t) site]) {
            if (has_cvec_add(t, h.n_embd)) h.check.applied[(size_t) site]++;
            else h.check.missing[(size_t) site]++;
        }
        return steer0 || slot >= 0;
    }
    if (steer0) {
        apply_steer0(t, h.steer0);
        h.check.block0_hits++;
    }
    if (slot >= 0) {
        if (fault("eval-callback")) throw std::runtime_error("injected fault");
        const int n = ++cap->hits[(size_t) site];
        if (n == 1 && cap->error.empty()) collect(*cap, t, slot);
        // Only on host memory: on a GPU backend (seen on Vulkan) a graph cut short corrupted the heap on the
        // next decode after a re-reserve, so there the graph runs to its end.
        if (site == cap->stop_site && cap->error.empty() && on_host(t)) {
            // Everything requested is read: the rest of the graph (later blocks, the lm head) is wasted
            // work. Returning false ends this graph piece; with several pieces (partial offload) the
            // rest still runs, which costs time but not correctness.
            cap->stopped = true;
            return false;
        }
    }
    return true;
}

}  // namespace

bool eval_callback(ggml_tensor * t, bool ask, void * user_data) noexcept {
    auto & h = *static_cast<HookState *>(user_data);
    try {
        return eval_impl(t, ask, h);
    } catch (const std::exception & e) {
        if (h.error.empty()) h.error = std::string("eval callback: ") + e.what();
    } catch (...) {
        if (h.error.empty()) h.error = "eval callback: unknown exception";
    }
    h.stop_graph.store(true);
    return false;
}

bool abort_callback(void * user_data) noexcept {
    const auto & h = *static_cast<const HookState *>(user_data);
    return h.cancel.load() || h.stop_graph.load();
}

CaptureScope::CaptureScope(HookState & h, CaptureBatch & cap) : h_(h) { h_.capture = &cap; }
CaptureScope::~CaptureScope() { h_.capture = nullptr; }

int32_t checked_decode(llama_context * ctx, const llama_batch & batch, HookState & h, bool hooks, const std::string & arch) {
    h.error.clear();
    h.stop_graph.store(false);
    h.check.reset((size_t) h.n_layer);
    if (h.capture) {
        h.capture->hits.assign((size_t) h.n_layer + 1, 0);
        h.capture->stopped = false;
    }
    int32_t rc;
    try {
        rc = llama_decode(ctx, batch);
        // llama_decode returns with the graph possibly still running on a GPU backend (llama.cpp waits only when
        // logits are read, and capture-only decodes read none): wait here, so that nothing that follows (a KV
        // clear, a control-vector upload, the next decode, dispose) touches buffers the device is still using.
        llama_synchronize(ctx);
    } catch (const std::exception & e) {
        // llama_decode is a C function but its C++ body may throw (e.g. std::bad_alloc).
        throw Failure(with_log(std::string("llama_decode threw: ") + e.what()));
    }
    const bool stopped = h.capture && h.capture->stopped;
    // blocks up to this site ran (the callback stopped the graph, or the graph ended at the highest captured site)
    const int seen_to = stopped ? h.capture->stop_site : h.graph_top >= 0 ? h.graph_top : h.n_layer;
    h.stop_graph.store(false);
    if (!h.error.empty()) throw Failure(h.error);
    if (rc != 0 || !hooks) return rc;
    // Steering checks: every steered block that ran must have received its vector, and no graph
    // piece may show the block output without it.
    for (int b = 0; b < h.n_layer; b++) {
        if (!h.steered[(size_t) b]) continue;
        if (h.check.missing[(size_t) b] > 0 || (h.check.applied[(size_t) b] == 0 && b <= seen_to)) {
            throw Failure("steering layer " + std::to_string(b + 1) + " cannot apply on architecture '" + arch +
                          "': llama.cpp does not add the control vector at its block output (l_out-" + std::to_string(b) + ")");
        }
    }
    if (!h.steer0.empty() && h.check.block0_hits == 0) {
        throw Failure("steering layer 1 cannot apply on architecture '" + arch + "': its graph has no l_out-0 tensor");
    }
    return rc;
}

}  // namespace vl
