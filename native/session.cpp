#include "session.h"

#include "options.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <thread>

namespace vl {

namespace {

// Turns llama_decode's return code into an error with a precise message.
void check_decode(int32_t rc, const char * what) {
    if (rc == 0) return;
    if (rc == 2) throw Failure("aborted");
    if (rc == 1) throw Failure(with_log(std::string(what) + ": no room in the context (KV cache full); use a larger contextSize"));
    throw Failure(with_log(std::string(what) + ": llama_decode failed with code " + std::to_string(rc)));
}

int32_t decode(SessionCore & s, const llama_batch & batch) {
    s.decoded = true;
    return checked_decode(s.ctx.get(), batch, s.h, s.hooks, s.arch);
}

// Capture-only decodes need no logits: without them llama.cpp neither reserves nor fills the
// n_outputs x n_vocab buffer (a patched llama.cpp; see vendor/patches/20-capture-no-logits.patch).
struct NoLogitsScope {
    llama_context * ctx;
    bool on;
    NoLogitsScope(llama_context * c, bool enable) : ctx(c), on(enable) {
#ifdef LLAMA_HAS_SET_LOGITS
        if (on) llama_set_logits(ctx, false);
#endif
    }
    ~NoLogitsScope() {
#ifdef LLAMA_HAS_SET_LOGITS
        if (on) llama_set_logits(ctx, true);
#endif
    }
};

constexpr bool has_graph_capture() {
#ifdef LLAMA_HAS_CAPTURE_SITES
    return true;
#else
    return false;
#endif
}

// Graph-output capture (patch 22) for one capture call: the sites are graph outputs while it runs, and never
// after it (generation and logprobs build their graphs without them).
struct CaptureSitesScope {
    llama_context * ctx = nullptr;
    HookState & h;
    CaptureSitesScope(llama_context * c, HookState & hooks, const std::vector<int> & sites, Position mode, int top) : h(hooks) {
#ifdef LLAMA_HAS_CAPTURE_SITES
        std::vector<int32_t> s(sites.begin(), sites.end());
        const int32_t m = mode == Position::Mean ? LLAMA_CAPTURE_MEAN : LLAMA_CAPTURE_ROWS;
        if (llama_set_capture_sites(c, s.data(), (int32_t) s.size(), m) != 0) throw Failure(with_log("capture: llama_set_capture_sites failed"));
        ctx = c;
        h.graph_top = top;
#else
        (void) c, (void) sites, (void) mode, (void) top;
        throw Failure("capture: this build has no graph-output capture (llama.cpp without LLAMA_HAS_CAPTURE_SITES)");
#endif
    }
    ~CaptureSitesScope() {
        h.graph_top = -1;
#ifdef LLAMA_HAS_CAPTURE_SITES
        if (ctx) llama_set_capture_sites(ctx, nullptr, 0, LLAMA_CAPTURE_ROWS);
#endif
    }
    CaptureSitesScope(const CaptureSitesScope &) = delete;
    CaptureSitesScope & operator=(const CaptureSitesScope &) = delete;
};

std::string site_name(int site, int n_layer) {
    return site == n_layer ? std::string("result_norm") : "l_out-" + std::to_string(site);
}

// Both capture methods: a requested site the architecture's graph does not name (its rows would stay zero).
Failure never_fired(const std::string & name, const std::string & arch) {
    return Failure("capture: layer site " + name + " never fired: architecture '" + arch + "' does not name that tensor, so it cannot be captured");
}

#ifdef LLAMA_HAS_CAPTURE_SITES
// Copies one decode's graph-output rows of every site into the capture's outputs (see CaptureBatch for the layout);
// a site the graph could not gather is an error naming the reason.
void read_graph_capture(SessionCore & s, const CaptureBatch & cap, const std::vector<int> & sites) {
    const size_t d = (size_t) s.n_embd;
    for (size_t k = 0; k < sites.size(); k++) {
        const int site = sites[k];
        const float * rows = nullptr;
        const int32_t st = llama_get_capture(s.ctx.get(), site, &rows);
        const std::string name = site_name(site, s.n_layer);
        switch (st) {
            case LLAMA_CAPTURE_OK: break;
            case LLAMA_CAPTURE_NOT_NAMED: throw never_fired(name, s.arch);
            case LLAMA_CAPTURE_NAMED_TWICE:
                throw Failure("capture: layer site " + name + " is named more than once in architecture '" + s.arch + "''s graph; rows would be mixed");
            case LLAMA_CAPTURE_SEQ_SPLIT:
                throw Failure("capture: llama.cpp split a sequence across micro-batches, so its mean at " + name + " would be partial");
            default:
                throw Failure("capture: layer site " + name + " of architecture '" + s.arch + "' has an unexpected layout (status " + std::to_string(st) + ")");
        }
        if (!rows) throw Failure("capture: llama.cpp returned no rows for " + name);
        std::vector<float> & out = (*cap.outputs)[k];
        for (size_t q = 0; q < cap.seq_start.size(); q++) {
            float * dst = out.data() + (size_t) cap.seq_row[q] * d;
            const int start = cap.seq_start[q], len = cap.seq_len[q];
            if (cap.mode == Position::Mean) {
                std::memcpy(dst, rows + q * d, d * sizeof(float));  // row = sequence id = q
            } else if (cap.mode == Position::Last) {
                const int r = cap.out_index[(size_t) (start + len - 1)];
                if (r < 0) throw Failure("capture: a last token was not flagged as an output");
                std::memcpy(dst, rows + (size_t) r * d, d * sizeof(float));
            } else {
                for (int j = 0; j < len; j++) {
                    const int r = cap.out_index[(size_t) (start + j)];
                    if (r < 0) throw Failure("capture: a token needed for capture was not flagged as an output");
                    std::memcpy(dst + (size_t) j * d, rows + (size_t) r * d, d * sizeof(float));
                }
            }
        }
    }
}
#endif

// exp(x) for x <= 0 without branches or libm calls, so the loops below vectorise: x = n·ln2 + r
// with |r| <= ln2/2, exp(r) by the Cephes degree-6 polynomial (~1 ulp), 2^n through the exponent bits.
inline float exp_nonpositive(float x) {
    x = x < -87.0f ? -87.0f : x;  // exp(-87) ~ 1.6e-38 is still a normal float
    const int32_t n = (int32_t) (x * 1.44269504088896341f - 0.5f);  // round to nearest (x <= 0)
    const float fn = (float) n;
    float r = x - fn * 0.693359375f;
    r = r - fn * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    const int32_t bits = (n + 127) << 23;
    float scale;
    std::memcpy(&scale, &bits, sizeof(scale));
    return p * scale;
}

// log softmax(logits)[target], in float with 8 independent lanes (vectorisable, and more accurate
// than one running sum).
float log_softmax_at(const float * logits, int n, int target) {
    constexpr int W = 8;
    float mx[W], acc[W];
    for (int k = 0; k < W; k++) mx[k] = -INFINITY, acc[k] = 0.0f;
    int i = 0;
    for (; i + W <= n; i += W)
        for (int k = 0; k < W; k++) mx[k] = std::max(mx[k], logits[i + k]);
    float m = -INFINITY;
    for (int k = 0; k < W; k++) m = std::max(m, mx[k]);
    for (int j = i; j < n; j++) m = std::max(m, logits[j]);
    for (i = 0; i + W <= n; i += W)
        for (int k = 0; k < W; k++) acc[k] += exp_nonpositive(logits[i + k] - m);
    float sum = 0.0f;
    for (int j = i; j < n; j++) sum += exp_nonpositive(logits[j] - m);
    for (int k = 0; k < W; k++) sum += acc[k];
    return logits[target] - m - std::log(sum);
}

// ---------------------------------------------------------------------------------------------
// Workers

class SessionWorker : public Napi::AsyncWorker {
  public:
    SessionWorker(Napi::Env env, std::shared_ptr<SessionCore> core, const char * name)
        : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)), core_(std::move(core)) {}
    Napi::Promise promise() { return deferred_.Promise(); }

    void Execute() override {
        try {
            clear_log_errors();
            Run();
        } catch (const std::exception & e) {
            SetError(e.what());
        } catch (...) {
            SetError("unknown native error");
        }
    }
    void OnOK() override {
        core_->busy = false;
        Napi::Env env = Env();
        // Building the result may throw (e.g. allocation); the promise must settle either way.
        try {
            if (fault("result")) throw std::runtime_error("injected fault while building the result");
            deferred_.Resolve(Result(env));
        } catch (const Napi::Error & e) {
            deferred_.Reject(e.Value());
        } catch (const std::exception & e) {
            deferred_.Reject(Napi::Error::New(env, e.what()).Value());
        }
        release_off_thread(env, core_);
    }
    void OnError(const Napi::Error & err) override {
        core_->busy = false;
        deferred_.Reject(err.Value());
        release_off_thread(Env(), core_);
    }

  protected:
    virtual void Run() = 0;
    virtual Napi::Value Result(Napi::Env env) = 0;
    SessionCore & core() { return *core_; }
    Napi::Promise::Deferred deferred_;
    std::shared_ptr<SessionCore> core_;
};

struct CaptureInput {
    std::vector<std::string> texts;
    std::vector<std::vector<llama_token>> tokens;  // used when texts were given pre-tokenized
    bool tokenized = false;
    bool add_special = true, parse_special = false;
    std::vector<int> sites;
    Position mode = Position::Last;
};

class CaptureWorker : public SessionWorker {
  public:
    CaptureWorker(Napi::Env env, std::shared_ptr<SessionCore> core, CaptureInput in)
        : SessionWorker(env, std::move(core), "valuelens.capture"), in_(std::move(in)) {}

  protected:
    void Run() override {
        SessionCore & s = core();
        const llama_vocab * vocab = llama_model_get_vocab(s.model.get());
        if (!in_.tokenized) {
            in_.tokens.reserve(in_.texts.size());
            for (const auto & t : in_.texts) in_.tokens.push_back(tokenize(vocab, t, in_.add_special, in_.parse_special));
        }
        const int n_vocab = llama_vocab_n_tokens(vocab);
        const size_t n_texts = in_.tokens.size();
        for (size_t i = 0; i < n_texts; i++) {
            const auto & tk = in_.tokens[i];
            if (tk.empty()) throw Failure("text " + std::to_string(i) + " has no tokens");
            if (tk.size() > s.n_batch) {
                throw Failure("text " + std::to_string(i) + " has " + std::to_string(tk.size()) +
                              " tokens, more than the session's batchSize (" + std::to_string(s.n_batch) + ")");
            }
            check_token_ids(tk, n_vocab, "text " + std::to_string(i) + " has ");
        }
        token_counts_.resize(n_texts);
        row_offsets_.assign(n_texts + 1, 0);
        for (size_t i = 0; i < n_texts; i++) {
            token_counts_[i] = (int32_t) in_.tokens[i].size();
            row_offsets_[i + 1] = row_offsets_[i] + token_counts_[i];
        }
        const size_t d = (size_t) s.n_embd;
        const size_t rows = in_.mode == Position::All ? (size_t) row_offsets_[n_texts] : n_texts;
        outputs_.assign(in_.sites.size(), std::vector<float>());
        for (auto & o : outputs_) o.assign(rows * d, 0.0f);

        CaptureBatch cap;
        cap.mode = in_.mode;
        cap.n_embd = s.n_embd;
        cap.outputs = &outputs_;
        cap.site_slot.assign((size_t) s.n_layer + 1, -1);
        bool need_all_outputs = false;
        for (size_t k = 0; k < in_.sites.size(); k++) {
            cap.site_slot[(size_t) in_.sites[k]] = (int) k;
            cap.stop_site = std::max(cap.stop_site, in_.sites[k]);
            if (in_.mode != Position::Last && (in_.sites[k] >= s.n_layer - 1)) need_all_outputs = true;
        }
        const bool capture_only = !in_.sites.empty();
        // Graph outputs gather the output rows, so every position needs every token flagged (the callback reads
        // the lower blocks' full tensors instead).
        const bool graph = capture_only && s.capture_graph;
        // An encoder-only model's graph keeps every token (llama.cpp flags them all as outputs): map its rows so.
        const llama_model * mdl = s.model.get();
        if (graph && (in_.mode == Position::All || (llama_model_has_encoder(mdl) && !llama_model_has_decoder(mdl)))) need_all_outputs = true;
        // Recurrent/hybrid memories split a multi-sequence decode by sequence: one text per decode there.
        const size_t max_seqs = s.split_by_sequence ? 1 : s.n_seq_max;

        BatchOwner batch((int32_t) s.n_batch);
        llama_memory_t mem = llama_get_memory(s.ctx.get());
        s.end_generation();  // the memory is cleared below: any generation in progress is over
        NoLogitsScope no_logits(s.ctx.get(), capture_only);
        std::optional<CaptureSitesScope> graph_sites;
        if (graph) graph_sites.emplace(s.ctx.get(), s.h, in_.sites, in_.mode, cap.stop_site);
        size_t next = 0;
        while (next < n_texts) {
            if (s.h.cancel.load()) throw Failure("aborted");
            batch.clear();
            cap.seq_start.clear();
            cap.seq_len.clear();
            cap.seq_row.clear();
            cap.out_index.clear();
            cap.error.clear();
            int n_out = 0;
            while (next < n_texts && cap.seq_start.size() < max_seqs &&
                   (size_t) batch.batch.n_tokens + in_.tokens[next].size() <= s.n_batch) {
                const auto & tk = in_.tokens[next];
                const llama_seq_id seq = (llama_seq_id) cap.seq_start.size();
                cap.seq_start.push_back(batch.batch.n_tokens);
                cap.seq_len.push_back((int) tk.size());
                cap.seq_row.push_back(in_.mode == Position::All ? row_offsets_[next] : (int) next);
                for (size_t j = 0; j < tk.size(); j++) {
                    const bool out = need_all_outputs || j + 1 == tk.size();
                    cap.out_index.push_back(out ? n_out++ : -1);
                    batch.add(tk[j], (llama_pos) j, seq, out);
                }
                next++;
            }
            cap.n_tokens = batch.batch.n_tokens;
            cap.n_outputs = n_out;
            llama_memory_clear(mem, false);
            if (graph) {
#ifdef LLAMA_HAS_CAPTURE_SITES
                check_decode(decode(s, batch.batch), "capture");
                read_graph_capture(s, cap, in_.sites);
                decoded_tokens_ += cap.n_tokens;
                continue;
#endif
            }
            {
                CaptureScope scope(s.h, cap);
                check_decode(decode(s, batch.batch), "capture");
            }
            if (!cap.error.empty()) throw Failure("capture: " + cap.error);
            // Exactly one firing per requested site: none means the architecture has no such tensor
            // (the rows would stay zero), more means llama.cpp split the decode (rows would mix).
            for (int site : in_.sites) {
                const int hits = cap.hits[(size_t) site];
                if (hits == 1) continue;
                const std::string name = site_name(site, s.n_layer);
                if (hits == 0) throw never_fired(name, s.arch);
                throw Failure("capture: layer site " + name + " fired " + std::to_string(hits) +
                              " times in one decode (llama.cpp split the batch); rows would be mixed");
            }
            decoded_tokens_ += cap.n_tokens;
        }
        llama_memory_clear(mem, false);
    }

    Napi::Value Result(Napi::Env env) override {
        Napi::Object o = Napi::Object::New(env);
        Napi::Array data = Napi::Array::New(env, outputs_.size());
        for (size_t k = 0; k < outputs_.size(); k++) data.Set((uint32_t) k, to_float32_array(env, std::move(outputs_[k])));
        o.Set("data", data);
        o.Set("tokenCounts", to_int32_array(env, token_counts_));
        o.Set("rowOffsets", to_int32_array(env, row_offsets_));
        o.Set("decodedTokens", (double) decoded_tokens_);
        return o;
    }

  private:
    CaptureInput in_;
    std::vector<std::vector<float>> outputs_;
    std::vector<int32_t> token_counts_, row_offsets_;
    int64_t decoded_tokens_ = 0;
};

class LogprobsWorker : public SessionWorker {
  public:
    LogprobsWorker(Napi::Env env, std::shared_ptr<SessionCore> core, std::vector<llama_token> prompt, std::vector<llama_token> cont)
        : SessionWorker(env, std::move(core), "valuelens.logprobs"), prompt_(std::move(prompt)), cont_(std::move(cont)) {}

  protected:
    void Run() override {
        SessionCore & s = core();
        const llama_vocab * vocab = llama_model_get_vocab(s.model.get());
        const int n_vocab = llama_vocab_n_tokens(vocab);
        if (prompt_.empty()) throw Failure("logprobs: the prompt has no tokens (a continuation needs at least one token before it)");
        std::vector<llama_token> all(prompt_);
        all.insert(all.end(), cont_.begin(), cont_.end());
        check_token_ids(all, n_vocab, "logprobs: ");
        if (all.size() > s.n_ctx) throw Failure("logprobs: prompt + continuation (" + std::to_string(all.size()) + " tokens) exceed contextSize");
        llama_memory_t mem = llama_get_memory(s.ctx.get());
        s.end_generation();  // the memory is cleared: any generation in progress is over
        llama_memory_clear(mem, false);
        BatchOwner batch((int32_t) s.n_batch);
        const size_t first = prompt_.size() - 1;  // position whose logits predict cont_[0]
        result_.resize(cont_.size());
        for (size_t pos = 0; pos < all.size(); pos += s.n_batch) {
            if (s.h.cancel.load()) throw Failure("aborted");
            batch.clear();
            const size_t end = std::min(all.size(), pos + s.n_batch);
            for (size_t i = pos; i < end; i++) batch.add(all[i], (llama_pos) i, 0, i >= first && i + 1 < all.size());
            check_decode(decode(s, batch.batch), "logprobs");
            for (size_t i = std::max(pos, first); i < end && i + 1 < all.size(); i++) {
                const float * logits = llama_get_logits_ith(s.ctx.get(), (int32_t) (i - pos));
                if (!logits) throw Failure(with_log("logprobs: no logits for position " + std::to_string(i)));
                result_[i - first] = log_softmax_at(logits, n_vocab, all[i + 1]);
            }
        }
        llama_memory_clear(mem, false);
    }
    Napi::Value Result(Napi::Env env) override { return to_float32_array(env, std::move(result_)); }

  private:
    std::vector<llama_token> prompt_, cont_;
    std::vector<float> result_;
};

struct SamplingParams {
    float temperature = 0.0f;
    float top_p = 1.0f;
    int32_t top_k = 0;
    float min_p = 0.0f;
    uint32_t seed = 0;
    std::string grammar;
};

SamplerPtr make_sampler(const llama_vocab * vocab, const SamplingParams & p, uint32_t seed) {
    llama_sampler_chain_params cp = llama_sampler_chain_default_params();
    cp.no_perf = true;
    SamplerPtr chain(llama_sampler_chain_init(cp));
    if (!p.grammar.empty()) {
        llama_sampler * g = llama_sampler_init_grammar(vocab, p.grammar.c_str(), "root");
        if (!g) throw Failure(with_log("invalid grammar"));
        llama_sampler_chain_add(chain.get(), g);
    }
    if (p.temperature <= 0.0f) {
        llama_sampler_chain_add(chain.get(), llama_sampler_init_greedy());
        return chain;
    }
    if (p.top_k > 0) llama_sampler_chain_add(chain.get(), llama_sampler_init_top_k(p.top_k));
    if (p.top_p < 1.0f) llama_sampler_chain_add(chain.get(), llama_sampler_init_top_p(p.top_p, 1));
    if (p.min_p > 0.0f) llama_sampler_chain_add(chain.get(), llama_sampler_init_min_p(p.min_p, 1));
    llama_sampler_chain_add(chain.get(), llama_sampler_init_temp(p.temperature));
    llama_sampler_chain_add(chain.get(), llama_sampler_init_dist(seed));
    return chain;
}

// One generation step result: a token per sequence (-1 where the sequence is finished).
struct StepResult {
    std::vector<int32_t> tokens;
    std::vector<int32_t> eog;
};

Napi::Value step_result(Napi::Env env, const StepResult & r) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("tokens", to_int32_array(env, r.tokens));
    o.Set("eog", to_int32_array(env, r.eog));
    return o;
}

void sample_into(SessionCore & s, size_t seq, int32_t batch_index, StepResult & r) {
    const llama_vocab * vocab = llama_model_get_vocab(s.model.get());
    GenSeq & g = s.gen[seq];
    const llama_token tok = llama_sampler_sample(g.sampler.get(), s.ctx.get(), batch_index);
    g.last = tok;
    r.tokens[seq] = tok;
    if (llama_vocab_is_eog(vocab, tok)) {
        r.eog[seq] = 1;
        g.active = false;
        llama_memory_seq_rm(llama_get_memory(s.ctx.get()), (llama_seq_id) seq, -1, -1);
    }
}

class GenStartWorker : public SessionWorker {
  public:
    GenStartWorker(Napi::Env env, std::shared_ptr<SessionCore> core, std::vector<std::vector<llama_token>> prompts, SamplingParams p)
        : SessionWorker(env, std::move(core), "valuelens.generate"), prompts_(std::move(prompts)), params_(std::move(p)) {}

  protected:
    void Run() override {
        SessionCore & s = core();
        const llama_vocab * vocab = llama_model_get_vocab(s.model.get());
        const int n_vocab = llama_vocab_n_tokens(vocab);
        if (prompts_.empty()) throw Failure("generate: no prompts");
        if (prompts_.size() > s.n_seq_max)
            throw Failure("generate: " + std::to_string(prompts_.size()) + " prompts exceed the session's maxSequences (" + std::to_string(s.n_seq_max) + ")");
        size_t total = 0;
        for (size_t i = 0; i < prompts_.size(); i++) {
            if (prompts_[i].empty()) throw Failure("generate: prompt " + std::to_string(i) + " has no tokens");
            check_token_ids(prompts_[i], n_vocab, "generate: ");
            total += prompts_[i].size();
        }
        if (total > s.n_ctx) throw Failure("generate: the prompts (" + std::to_string(total) + " tokens) exceed contextSize (" + std::to_string(s.n_ctx) + ")");
        s.end_generation();
        // If the prompt decode fails, no half-started generation may remain for genStep to continue.
        struct EndUnlessStarted {
            SessionCore & s;
            bool started = false;
            ~EndUnlessStarted() { if (!started) s.end_generation(); }
        } guard{s};
        s.gen.resize(prompts_.size());
        for (size_t i = 0; i < prompts_.size(); i++) {
            s.gen[i].sampler = make_sampler(vocab, params_, params_.seed + (uint32_t) i);
            s.gen[i].active = true;
        }
        llama_memory_clear(llama_get_memory(s.ctx.get()), false);
        result_.tokens.assign(prompts_.size(), -1);
        result_.eog.assign(prompts_.size(), 0);
        BatchOwner batch((int32_t) s.n_batch);
        std::vector<std::pair<size_t, int32_t>> to_sample;  // (sequence, batch index)
        auto flush = [&]() {
            if (batch.batch.n_tokens == 0) return;
            if (s.h.cancel.load()) throw Failure("aborted");
            check_decode(decode(s, batch.batch), "generate (prompt)");
            for (auto [seq, idx] : to_sample) sample_into(s, seq, idx, result_);
            batch.clear();
            to_sample.clear();
        };
        for (size_t i = 0; i < prompts_.size(); i++) {
            const auto & p = prompts_[i];
            for (size_t j = 0; j < p.size(); j++) {
                if ((uint32_t) batch.batch.n_tokens == s.n_batch) flush();
                const bool last = j + 1 == p.size();
                if (last) to_sample.emplace_back(i, batch.batch.n_tokens);
                batch.add(p[j], (llama_pos) j, (llama_seq_id) i, last);
            }
            s.gen[i].n_past = (int32_t) p.size();
        }
        flush();
        guard.started = true;
    }
    Napi::Value Result(Napi::Env env) override { return step_result(env, result_); }

  private:
    std::vector<std::vector<llama_token>> prompts_;
    SamplingParams params_;
    StepResult result_;
};

class GenStepWorker : public SessionWorker {
  public:
    GenStepWorker(Napi::Env env, std::shared_ptr<SessionCore> core) : SessionWorker(env, std::move(core), "valuelens.generate") {}

  protected:
    void Run() override {
        SessionCore & s = core();
        if (s.gen.empty()) {
            throw Failure("generate: no generation in progress (it finished, or capture/logprobs cleared the memory after genStart)");
        }
        result_.tokens.assign(s.gen.size(), -1);
        result_.eog.assign(s.gen.size(), 0);
        BatchOwner batch((int32_t) std::max<size_t>(1, s.gen.size()));
        std::vector<std::pair<size_t, int32_t>> to_sample;
        for (size_t i = 0; i < s.gen.size(); i++) {
            GenSeq & g = s.gen[i];
            if (!g.active) continue;
            if ((uint32_t) g.n_past >= s.n_ctx) {
                throw Failure("generate: sequence " + std::to_string(i) + " reached contextSize (" + std::to_string(s.n_ctx) + " tokens)");
            }
            to_sample.emplace_back(i, batch.batch.n_tokens);
            batch.add(g.last, g.n_past, (llama_seq_id) i, true);
        }
        if (to_sample.empty()) return;
        if (s.h.cancel.load()) throw Failure("aborted");
        check_decode(decode(s, batch.batch), "generate");
        // Positions advance only once the tokens are in the memory, so a failed step can be retried.
        for (auto [seq, idx] : to_sample) s.gen[seq].n_past++;
        for (auto [seq, idx] : to_sample) sample_into(s, seq, idx, result_);
    }
    Napi::Value Result(Napi::Env env) override { return step_result(env, result_); }

  private:
    StepResult result_;
};

// Host memory a context holds beyond the model, for V8's heuristics: the KV cache plus the output
// buffer llama.cpp reserves at creation (an estimate; backends differ in the details).
int64_t estimate_context_bytes(const SessionCore & s, ggml_type kv_type) {
    const llama_model * m = s.model.get();
    const int64_t n_head = std::max(1, llama_model_n_head(m)), n_head_kv = std::max(0, llama_model_n_head_kv(m));
    const int64_t head_dim = s.n_embd / n_head;
    const double kv_elem = (double) ggml_type_size(kv_type) / (double) ggml_blck_size(kv_type);
    const int64_t kv = (int64_t) (2.0 * (double) s.n_ctx * (double) s.n_layer * (double) (n_head_kv * head_dim) * kv_elem);
    const int64_t out = (int64_t) llama_vocab_n_tokens(llama_model_get_vocab(m)) * s.n_seq_max * (int64_t) sizeof(float);
    return kv + out;
}

struct CreateOptions {
    uint32_t context_size = 2048, batch_size = 512, max_sequences = 64;
    int32_t threads = 0;
    ggml_type kv_type = GGML_TYPE_F16;
    llama_flash_attn_type flash = LLAMA_FLASH_ATTN_TYPE_AUTO;
    bool hooks = true;
    bool offloaded = false;
    std::string capture_method = "auto";  // auto | graph | callback
};

// One persistent thread pool per context (see Threadpool in session.h). Where the CPU backend offers none,
// llama.cpp's own per-graph pool is used, as before.
void attach_threadpool(SessionCore & core, int32_t threads) {
    ggml_backend_reg_t cpu = ggml_backend_reg_by_name("CPU");
    if (!cpu) return;
    using new_fn = ggml_threadpool_t (*)(ggml_threadpool_params *);
    using free_fn = void (*)(ggml_threadpool_t);
    auto tp_new = reinterpret_cast<new_fn>(ggml_backend_reg_get_proc_address(cpu, "ggml_threadpool_new"));
    auto tp_free = reinterpret_cast<free_fn>(ggml_backend_reg_get_proc_address(cpu, "ggml_threadpool_free"));
    if (!tp_new || !tp_free) return;
    ggml_threadpool_params params = ggml_threadpool_params_default(threads);
    core.threadpool.tp = tp_new(&params);
    if (!core.threadpool.tp) throw Failure(with_log("failed to create the CPU thread pool"));
    core.threadpool.free_fn = tp_free;
    llama_attach_threadpool(core.ctx.get(), core.threadpool.tp, core.threadpool.tp);
}

class CreateWorker : public Napi::AsyncWorker {
  public:
    CreateWorker(Napi::Env env, std::shared_ptr<llama_model> model, CreateOptions o)
        : Napi::AsyncWorker(env, "valuelens.createSession"), deferred_(Napi::Promise::Deferred::New(env)), model_(std::move(model)), o_(o) {}
    Napi::Promise promise() { return deferred_.Promise(); }

    void Execute() override {
        try {
            clear_log_errors();
            core_ = std::make_shared<SessionCore>();
            core_->model = model_;
            core_->n_embd = llama_model_n_embd(model_.get());
            core_->n_layer = llama_model_n_layer(model_.get());
            core_->hooks = o_.hooks;
            core_->split_by_sequence = llama_model_is_recurrent(model_.get()) || llama_model_is_hybrid(model_.get());
            char arch[128] = {0};
            if (llama_model_meta_val_str(model_.get(), "general.architecture", arch, sizeof(arch)) > 0) core_->arch = arch;
            core_->h.n_layer = core_->n_layer;
            core_->h.n_embd = core_->n_embd;
            core_->h.steered.assign((size_t) core_->n_layer, 0);
            core_->h.check.reset((size_t) core_->n_layer);
            llama_context_params cp = llama_context_default_params();
            cp.n_ctx = o_.context_size;
            cp.n_batch = o_.batch_size;
            cp.n_ubatch = o_.batch_size;  // one ubatch per decode, so hook rows follow batch order
            cp.n_seq_max = o_.max_sequences;
            const int32_t threads = clamp_threads(o_.threads);
            core_->n_threads = threads;
            cp.n_threads = threads;
            cp.n_threads_batch = threads;
            cp.kv_unified = true;
            cp.type_k = o_.kv_type;
            cp.type_v = o_.kv_type;
            cp.flash_attn_type = o_.flash;
            cp.no_perf = true;
            cp.abort_callback = abort_callback;
            cp.abort_callback_data = &core_->h;
            if (o_.hooks) {
                cp.cb_eval = eval_callback;
                cp.cb_eval_user_data = &core_->h;
            }
            llama_context * ctx = llama_init_from_model(model_.get(), cp);
            if (!ctx) throw Failure(with_log("failed to create a llama.cpp context"));
            core_->ctx.reset(ctx);
            core_->cparams = cp;
            core_->offloaded = o_.offloaded;
            // auto: graph outputs where layers run on a GPU (no graph cut and sync per site); on the CPU the callback,
            // which reads the rows in place and stops the graph right after the highest site (measured: bench/capture.mjs).
            core_->capture_graph = o_.capture_method == "graph" || (o_.capture_method == "auto" && has_graph_capture() && o_.offloaded);
            attach_threadpool(*core_, threads);
            core_->n_ctx = llama_n_ctx(ctx);
            core_->n_batch = llama_n_batch(ctx);
            core_->n_seq_max = llama_n_seq_max(ctx);
            core_->external_bytes = estimate_context_bytes(*core_, o_.kv_type);
        } catch (const std::exception & e) {
            SetError(e.what());
        }
    }
    void OnOK() override {
        Napi::Env env = Env();
        auto * data = env.GetInstanceData<AddonData>();
        auto boxed = std::make_unique<std::shared_ptr<SessionCore>>(core_);
        auto holder = Napi::External<std::shared_ptr<SessionCore>>::New(
            env, boxed.get(), [](Napi::Env, std::shared_ptr<SessionCore> * p) { std::unique_ptr<std::shared_ptr<SessionCore>> release(p); });
        boxed.release();  // owned by the External's finalizer now
        Napi::Object obj = data->session_ctor.New({holder});
        holder.Data()->reset();  // the Session holds the only reference, so dispose() frees the context (and remote RPC buffers) at once
        deferred_.Resolve(obj);
    }
    void OnError(const Napi::Error & err) override { deferred_.Reject(err.Value()); }

  private:
    Napi::Promise::Deferred deferred_;
    std::shared_ptr<llama_model> model_;
    CreateOptions o_;
    std::shared_ptr<SessionCore> core_;
};

}  // namespace

// -------------------------------------------------------------------------------------------------

Napi::Function Session::Define(Napi::Env env) {
    return DefineClass(env, "NativeSession",
                       {
                           InstanceMethod<&Session::Info>("info"),
                           InstanceMethod<&Session::Capture>("capture"),
                           InstanceMethod<&Session::SetSteering>("setSteering"),
                           InstanceMethod<&Session::Logprobs>("logprobs"),
                           InstanceMethod<&Session::GenStart>("genStart"),
                           InstanceMethod<&Session::GenStep>("genStep"),
                           InstanceMethod<&Session::GenStop>("genStop"),
                           InstanceMethod<&Session::Cancel>("cancel"),
                           InstanceMethod<&Session::Dispose>("dispose"),
                       });
}

Napi::Value Session::Create(Napi::Env env, std::shared_ptr<llama_model> model, Napi::Object o, bool offloaded) {
    CreateOptions c;
    c.context_size = (uint32_t) get_int_opt(o, "contextSize", c.context_size, 1, 1 << 24);
    c.batch_size = (uint32_t) get_int_opt(o, "batchSize", c.batch_size, 1, 1 << 20);
    c.max_sequences = (uint32_t) get_int_opt(o, "maxSequences", c.max_sequences, 1, (int64_t) llama_max_parallel_sequences());
    // Any count is accepted and clamped to the CPUs available (info().threads tells what was used).
    c.threads = (int32_t) std::min<int64_t>(get_int_opt(o, "threads", 0, 0, 1 << 20), 1 << 20);
    if (c.batch_size > c.context_size) {
        throw Napi::RangeError::New(env, "batchSize (" + std::to_string(c.batch_size) + ") must not exceed contextSize (" + std::to_string(c.context_size) + ")");
    }
    if (o.Has("kvType") && !o.Get("kvType").IsUndefined()) {
        std::string t = o.Get("kvType").ToString().Utf8Value();
        if (t == "f16") c.kv_type = GGML_TYPE_F16;
        else if (t == "f32") c.kv_type = GGML_TYPE_F32;
        else if (t == "q8_0") c.kv_type = GGML_TYPE_Q8_0;
        else throw Napi::RangeError::New(env, "kvType must be f16, f32 or q8_0 (got '" + t + "')");
    }
    if (o.Has("flashAttention") && !o.Get("flashAttention").IsUndefined()) {
        std::string f = o.Get("flashAttention").ToString().Utf8Value();
        if (f == "auto") c.flash = LLAMA_FLASH_ATTN_TYPE_AUTO;
        else if (f == "on") c.flash = LLAMA_FLASH_ATTN_TYPE_ENABLED;
        else if (f == "off") c.flash = LLAMA_FLASH_ATTN_TYPE_DISABLED;
        else throw Napi::RangeError::New(env, "flashAttention must be auto, on or off (got '" + f + "')");
    }
    c.hooks = get_bool_opt(o, "hooks", true);
    c.offloaded = offloaded;
    if (o.Has("captureMethod") && !o.Get("captureMethod").IsUndefined()) {
        if (!o.Get("captureMethod").IsString()) throw Napi::TypeError::New(env, "captureMethod must be 'auto', 'graph' or 'callback'");
        c.capture_method = o.Get("captureMethod").As<Napi::String>().Utf8Value();
        if (c.capture_method != "auto" && c.capture_method != "graph" && c.capture_method != "callback")
            throw Napi::RangeError::New(env, "captureMethod must be 'auto', 'graph' or 'callback' (got '" + c.capture_method + "')");
        if (c.capture_method == "graph" && !has_graph_capture())
            throw Napi::Error::New(env, "captureMethod 'graph' needs llama.cpp with vendor/patches/22-capture-sites.patch (LLAMA_HAS_CAPTURE_SITES); this build has none");
    }
    return queue_worker<CreateWorker>(env, std::move(model), c);
}

Session::Session(const Napi::CallbackInfo & info) : Napi::ObjectWrap<Session>(info) {
    if (info.Length() < 1 || !info[0].IsExternal()) {
        throw Napi::TypeError::New(info.Env(), "NativeSession cannot be constructed directly; use model.createSession()");
    }
    core_ = *info[0].As<Napi::External<std::shared_ptr<SessionCore>>>().Data();
    if (core_ && core_->external_bytes > 0) {
        int64_t total = 0;
        napi_adjust_external_memory(info.Env(), core_->external_bytes, &total);
    }
}

Session::~Session() {
    // Garbage collected without dispose(): the context is freed here, on the JS thread.
    if (core_ && core_->external_bytes > 0) {
        int64_t total = 0;
        napi_adjust_external_memory(Env(), -core_->external_bytes, &total);
    }
}

void Session::release(Napi::Env env) {
    if (!core_) return;
    core_->h.cancel.store(true);  // a running operation stops at its next check
    if (core_->external_bytes > 0) {
        int64_t total = 0;
        napi_adjust_external_memory(env, -core_->external_bytes, &total);
    }
    release_off_thread(env, core_);  // a running worker holds its own reference and frees it when done
}

SessionCore & Session::acquire(Napi::Env env) {
    if (!core_) throw Napi::Error::New(env, "session has been disposed");
    if (core_->busy) throw Napi::Error::New(env, "session is busy with another operation");
    core_->busy = true;
    core_->h.cancel.store(false);
    return *core_;
}

Napi::Value Session::Info(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!core_) throw Napi::Error::New(env, "session has been disposed");
    Napi::Object o = Napi::Object::New(env);
    o.Set("contextSize", core_->n_ctx);
    o.Set("batchSize", core_->n_batch);
    o.Set("maxSequences", core_->n_seq_max);
    o.Set("hooks", core_->hooks);
    o.Set("nLayer", core_->n_layer);
    o.Set("nEmbd", core_->n_embd);
    o.Set("threads", core_->n_threads);
    o.Set("splitBySequence", core_->split_by_sequence);
    o.Set("captureMethod", core_->capture_graph ? "graph" : "callback");
    return o;
}

Napi::Value Session::Capture(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!core_) throw Napi::Error::New(env, "session has been disposed");
    if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsObject()) throw Napi::TypeError::New(env, "capture(texts, options)");
    CaptureInput in;
    Napi::Array texts = info[0].As<Napi::Array>();
    const uint32_t n = texts.Length();
    for (uint32_t i = 0; i < n; i++) {
        Napi::Value v = texts.Get(i);
        if (v.IsString()) {
            if (in.tokenized) throw Napi::TypeError::New(env, "capture: texts must be all strings or all Int32Arrays");
            in.texts.push_back(v.As<Napi::String>().Utf8Value());
        } else {
            if (!in.texts.empty()) throw Napi::TypeError::New(env, "capture: texts must be all strings or all Int32Arrays");
            in.tokenized = true;
            in.tokens.push_back(int32_vec(env, v, "capture: text " + std::to_string(i)));
        }
    }
    Napi::Object o = info[1].As<Napi::Object>();
    if (!o.Get("sites").IsArray()) throw Napi::TypeError::New(env, "capture: sites must be an array of site numbers");
    Napi::Array sites = o.Get("sites").As<Napi::Array>();
    for (uint32_t i = 0; i < sites.Length(); i++) {
        const int site = (int) get_int(env, sites.Get(i), "capture: site", 0, core_->n_layer);
        if (std::find(in.sites.begin(), in.sites.end(), site) != in.sites.end()) throw Napi::RangeError::New(env, "capture: duplicate site " + std::to_string(site));
        in.sites.push_back(site);
    }
    // With no sites this is a plain batched decode (the benchmark baseline), allowed without hooks; graph-output
    // capture needs no hook either.
    if (!core_->hooks && !core_->capture_graph && !in.sites.empty())
        throw Napi::Error::New(env, "this session was created with hooks: false and cannot capture through the eval callback (use captureMethod: 'graph')");
    in.mode = (Position) get_int(env, o.Get("mode"), "capture: mode", 0, 2);
    in.add_special = get_bool_opt(o, "addSpecial", true, "capture: ");
    in.parse_special = get_bool_opt(o, "parseSpecial", false, "capture: ");
    acquire(env);
    return queue_worker<CaptureWorker>(env, core_, std::move(in));
}

Napi::Value Session::SetSteering(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    SessionCore & s = acquire(env);
    struct Release {
        SessionCore & s;
        ~Release() { s.busy = false; }
    } release{s};
    // entries: Array<{ block: number, vector: Float32Array }>, already summed per block by the caller.
    if (info.Length() < 1 || !info[0].IsArray()) throw Napi::TypeError::New(env, "setSteering: entries must be an array");
    const size_t d = (size_t) s.n_embd;
    std::vector<float> cvec;
    std::vector<float> steer0;
    std::vector<char> steered((size_t) s.n_layer, 0);
    int lo = -1, hi = -1;
    Napi::Array entries = info[0].As<Napi::Array>();
    for (uint32_t i = 0; i < entries.Length(); i++) {
        if (!entries.Get(i).IsObject()) throw Napi::TypeError::New(env, "setSteering: each entry must be { block, vector }");
        Napi::Object e = entries.Get(i).As<Napi::Object>();
        const int block = (int) get_int(env, e.Get("block"), "setSteering: block", 0, s.n_layer - 1);
        if (steered[(size_t) block]) throw Napi::RangeError::New(env, "setSteering: block " + std::to_string(block) + " given twice (sum the vectors first)");
        steered[(size_t) block] = 1;
        Napi::Value vv = e.Get("vector");
        if (!vv.IsTypedArray() || vv.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
            throw Napi::TypeError::New(env, "setSteering: vector must be a Float32Array");
        Napi::Float32Array v = vv.As<Napi::Float32Array>();
        if (v.ElementLength() != d)
            throw Napi::RangeError::New(env, "setSteering: vector has length " + std::to_string(v.ElementLength()) + ", the model's nEmbd is " + std::to_string(d));
        for (size_t j = 0; j < d; j++)
            if (!std::isfinite(v[j])) throw Napi::RangeError::New(env, "setSteering: vector for block " + std::to_string(block) + " has a non-finite value at " + std::to_string(j));
#ifdef LLAMA_HAS_CVEC_BLOCK0
        // Every block, block 0 included, through llama.cpp's control vector: one graph, no callback.
        if (cvec.empty()) cvec.assign(d * (size_t) s.n_layer, 0.0f);
        std::copy(v.Data(), v.Data() + d, cvec.begin() + (ptrdiff_t) ((size_t) block * d));
#else
        if (block == 0) {
            if (!s.hooks) throw Napi::Error::New(env, "steering layer 1 needs the eval hook; this session was created with hooks: false");
            steer0.assign(v.Data(), v.Data() + d);
            continue;
        }
        // llama.cpp's buffer entry j is added to the output of block j+1 (block 0 has no entry).
        if (cvec.empty()) cvec.assign(d * (size_t) (s.n_layer - 1), 0.0f);
        std::copy(v.Data(), v.Data() + d, cvec.begin() + (ptrdiff_t) ((size_t) (block - 1) * d));
#endif
        lo = lo < 0 ? block : std::min(lo, block);
        hi = std::max(hi, block);
    }
    clear_log_errors();
#ifndef LLAMA_HAS_CVEC_NO_RESERVE
    if (s.offloaded && s.decoded) {
        // Unpatched llama.cpp re-reserves the scheduler when a control vector is set, and that re-reserve after a
        // decode corrupts the heap with every layer on Vulkan (reproduced with llama.cpp alone:
        // bench/gpu/cvec-vulkan-repro.cpp; vendor/patches/23 removes it). A control vector set on a fresh context
        // before its first decode is fine, so without the patch a steering change on a GPU backend swaps in a fresh
        // context (same parameters, same thread pool; the KV cache is empty anyway: every capture, logprobs and
        // generation starts by clearing it). Made first, so a failure leaves the old one.
        ContextPtr fresh(llama_init_from_model(s.model.get(), s.cparams));
        if (!fresh) throw Napi::Error::New(env, with_log("setSteering: failed to create a fresh llama.cpp context (GPU backends need one per steering change)"));
        s.end_generation();
        s.ctx = std::move(fresh);
        if (s.threadpool.tp) llama_attach_threadpool(s.ctx.get(), s.threadpool.tp, s.threadpool.tp);
        s.decoded = false;
    }
#endif
#ifdef LLAMA_HAS_CVEC_BLOCK0
    const int32_t rc = cvec.empty() ? llama_set_adapter_cvec(s.ctx.get(), nullptr, 0, s.n_embd, -1, -1)
                                    : llama_set_adapter_cvec_blocks(s.ctx.get(), cvec.data(), cvec.size(), s.n_embd, lo, hi);
#else
    const int32_t rc = cvec.empty() ? llama_set_adapter_cvec(s.ctx.get(), nullptr, 0, s.n_embd, -1, -1)
                                    : llama_set_adapter_cvec(s.ctx.get(), cvec.data(), cvec.size(), s.n_embd, lo, hi);
#endif
    if (rc != 0) throw Napi::Error::New(env, with_log("setSteering: llama_set_adapter_cvec failed"));
#ifndef LLAMA_HAS_CVEC_BLOCK0
    steered[0] = 0;  // block 0 goes through its own hook, checked by its hit count
#endif
    s.h.steer0 = std::move(steer0);
    s.h.steered = std::move(steered);
    return env.Undefined();
}

Napi::Value Session::Logprobs(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!core_) throw Napi::Error::New(env, "session has been disposed");
    if (info.Length() < 2) throw Napi::TypeError::New(env, "logprobs(prompt, continuation)");
    auto prompt = int32_vec(env, info[0], "logprobs: prompt");
    auto cont = int32_vec(env, info[1], "logprobs: continuation");
    acquire(env);
    return queue_worker<LogprobsWorker>(env, core_, std::move(prompt), std::move(cont));
}

Napi::Value Session::GenStart(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!core_) throw Napi::Error::New(env, "session has been disposed");
    if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsObject()) throw Napi::TypeError::New(env, "genStart(prompts, sampling)");
    std::vector<std::vector<llama_token>> prompts;
    Napi::Array arr = info[0].As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length(); i++) prompts.push_back(int32_vec(env, arr.Get(i), "generate: prompt " + std::to_string(i)));
    Napi::Object o = info[1].As<Napi::Object>();
    SamplingParams p;
    const std::string pre = "generate: ";
    p.temperature = (float) get_finite_opt(o, "temperature", p.temperature, 0.0, 1e6, pre);
    p.top_p = (float) get_finite_opt(o, "topP", p.top_p, 0.0, 1.0, pre);
    p.top_k = (int32_t) get_int_opt(o, "topK", p.top_k, 0, INT32_MAX, pre);
    p.min_p = (float) get_finite_opt(o, "minP", p.min_p, 0.0, 1.0, pre);
    p.seed = (uint32_t) get_int_opt(o, "seed", p.seed, 0, UINT32_MAX, pre);
    if (o.Has("grammar") && !o.Get("grammar").IsUndefined()) {
        if (!o.Get("grammar").IsString()) throw Napi::TypeError::New(env, "generate: grammar must be a string");
        p.grammar = o.Get("grammar").As<Napi::String>().Utf8Value();
    }
    acquire(env);
    return queue_worker<GenStartWorker>(env, core_, std::move(prompts), std::move(p));
}

Napi::Value Session::GenStep(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    acquire(env);
    return queue_worker<GenStepWorker>(env, core_);
}

Napi::Value Session::GenStop(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    SessionCore & s = acquire(env);
    s.busy = false;
    const int32_t seq = (int32_t) get_int(env, info[0], "genStop: sequence", 0, INT32_MAX);
    if ((size_t) seq >= s.gen.size()) throw Napi::RangeError::New(env, "genStop: no such sequence");
    if (s.gen[(size_t) seq].active) {
        s.gen[(size_t) seq].active = false;
        llama_memory_seq_rm(llama_get_memory(s.ctx.get()), seq, -1, -1);
    }
    return env.Undefined();
}

Napi::Value Session::Cancel(const Napi::CallbackInfo & info) {
    if (core_) core_->h.cancel.store(true);
    return info.Env().Undefined();
}

Napi::Value Session::Dispose(const Napi::CallbackInfo & info) {
    release(info.Env());
    return info.Env().Undefined();
}

}  // namespace vl
