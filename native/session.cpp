#include "session.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <thread>

namespace vl {

namespace {

// ---------------------------------------------------------------------------------------------
// Hooks

int site_of(const char * name, int n_layer) {
    if (std::strncmp(name, "l_out-", 6) == 0) {
        char * end = nullptr;
        long b = std::strtol(name + 6, &end, 10);
        if (end && *end == '\0' && b >= 0 && b < n_layer) return (int) b;
        return -1;
    }
    if (std::strcmp(name, "result_norm") == 0) return n_layer;
    return -1;
}

// Reads row r of a 2-D F32 tensor into dst, directly when it lives in host memory.
const float * tensor_rows(ggml_tensor * t, std::vector<float> & staging) {
    if (t->buffer && ggml_backend_buffer_is_host(t->buffer)) return static_cast<const float *>(t->data);
    staging.resize((size_t) ggml_nelements(t));
    ggml_backend_tensor_get(t, staging.data(), 0, ggml_nbytes(t));
    return staging.data();
}

void apply_steer0(ggml_tensor * t, const std::vector<float> & v) {
    const int64_t n_embd = t->ne[0], rows = t->ne[1];
    if (t->buffer && ggml_backend_buffer_is_host(t->buffer)) {
        for (int64_t r = 0; r < rows; r++) {
            float * row = reinterpret_cast<float *>(static_cast<char *>(t->data) + r * t->nb[1]);
            for (int64_t j = 0; j < n_embd; j++) row[j] += v[j];
        }
        return;
    }
    std::vector<float> buf((size_t) ggml_nelements(t));
    ggml_backend_tensor_get(t, buf.data(), 0, ggml_nbytes(t));
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < n_embd; j++) buf[r * n_embd + j] += v[j];
    ggml_backend_tensor_set(t, buf.data(), 0, ggml_nbytes(t));
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
    auto row_of = [&](int tok) { return all_rows ? tok : cap.out_index[tok]; };
    const size_t d = (size_t) cap.n_embd;
    std::vector<float> & out = (*cap.outputs)[slot];
    const bool host = t->buffer && ggml_backend_buffer_is_host(t->buffer);

    if (cap.mode == Position::Last) {
        for (size_t s = 0; s < cap.seq_start.size(); s++) {
            const int r = row_of(cap.seq_start[s] + cap.seq_len[s] - 1);
            float * dst = out.data() + (size_t) cap.seq_text[s] * d;
            if (host) {
                std::memcpy(dst, static_cast<const char *>(t->data) + (size_t) r * t->nb[1], d * sizeof(float));
            } else {
                ggml_backend_tensor_get(t, dst, (size_t) r * t->nb[1], d * sizeof(float));
            }
        }
        return;
    }
    const float * src = tensor_rows(t, cap.staging);
    std::vector<double> acc;
    for (size_t s = 0; s < cap.seq_start.size(); s++) {
        const int start = cap.seq_start[s], len = cap.seq_len[s];
        for (int j = 0; j < len; j++) {
            if (row_of(start + j) < 0) {
                cap.error = "a token needed for capture was not flagged as an output";
                return;
            }
        }
        if (cap.mode == Position::Mean) {
            acc.assign(d, 0.0);
            for (int j = 0; j < len; j++) {
                const float * row = src + (size_t) row_of(start + j) * d;
                for (size_t k = 0; k < d; k++) acc[k] += row[k];
            }
            float * dst = out.data() + (size_t) cap.seq_text[s] * d;
            for (size_t k = 0; k < d; k++) dst[k] = (float) (acc[k] / len);
        } else {
            float * dst = out.data() + (size_t) cap.seq_row_offset[s] * d;
            for (int j = 0; j < len; j++) std::memcpy(dst + (size_t) j * d, src + (size_t) row_of(start + j) * d, d * sizeof(float));
        }
    }
}

bool eval_callback(ggml_tensor * t, bool ask, void * user_data) {
    auto * core = static_cast<SessionCore *>(user_data);
    const int site = site_of(t->name, core->n_layer);
    if (site < 0) return !ask;  // decline: the graph is split only where we look
    const bool steer = site == 0 && !core->steer0.empty();
    CaptureBatch * cap = core->capture;
    const int slot = cap && site < (int) cap->site_slot.size() ? cap->site_slot[site] : -1;
    if (ask) return steer || slot >= 0;
    if (steer) apply_steer0(t, core->steer0);
    if (slot >= 0 && cap->error.empty()) collect(*cap, t, slot);
    return true;
}

bool abort_callback(void * user_data) { return static_cast<SessionCore *>(user_data)->cancel.load(); }

void check_decode(int32_t rc, const char * what) {
    if (rc == 0) return;
    if (rc == 2) throw Failure("aborted");
    if (rc == 1) throw Failure(with_log(std::string(what) + ": no room in the context (KV cache full); use a larger contextSize"));
    throw Failure(with_log(std::string(what) + ": llama_decode failed with code " + std::to_string(rc)));
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
        }
    }
    void OnOK() override {
        core_->busy = false;
        deferred_.Resolve(Result(Env()));
    }
    void OnError(const Napi::Error & err) override {
        core_->busy = false;
        deferred_.Reject(err.Value());
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
            for (llama_token t : tk)
                if (t < 0 || t >= n_vocab) throw Failure("text " + std::to_string(i) + " has token id " + std::to_string(t) + " outside the vocabulary");
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
            if (in_.mode != Position::Last && (in_.sites[k] >= s.n_layer - 1)) need_all_outputs = true;
        }

        BatchOwner batch((int32_t) s.n_batch);
        llama_memory_t mem = llama_get_memory(s.ctx.get());
        size_t next = 0;
        while (next < n_texts) {
            if (s.cancel.load()) throw Failure("aborted");
            batch.clear();
            cap.seq_start.clear();
            cap.seq_len.clear();
            cap.seq_text.clear();
            cap.seq_row_offset.clear();
            cap.out_index.clear();
            cap.error.clear();
            int n_out = 0;
            while (next < n_texts && cap.seq_start.size() < s.n_seq_max &&
                   (size_t) batch.batch.n_tokens + in_.tokens[next].size() <= s.n_batch) {
                const auto & tk = in_.tokens[next];
                const llama_seq_id seq = (llama_seq_id) cap.seq_start.size();
                cap.seq_start.push_back(batch.batch.n_tokens);
                cap.seq_len.push_back((int) tk.size());
                cap.seq_text.push_back((int) next);
                cap.seq_row_offset.push_back(row_offsets_[next]);
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
            s.capture = &cap;
            const int32_t rc = llama_decode(s.ctx.get(), batch.batch);
            s.capture = nullptr;
            check_decode(rc, "capture");
            if (!cap.error.empty()) throw Failure("capture: " + cap.error);
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
        for (llama_token t : all)
            if (t < 0 || t >= n_vocab) throw Failure("logprobs: token id " + std::to_string(t) + " outside the vocabulary");
        if (all.size() > s.n_ctx) throw Failure("logprobs: prompt + continuation (" + std::to_string(all.size()) + " tokens) exceed contextSize");
        llama_memory_t mem = llama_get_memory(s.ctx.get());
        llama_memory_clear(mem, false);
        BatchOwner batch((int32_t) s.n_batch);
        const size_t first = prompt_.size() - 1;  // position whose logits predict cont_[0]
        result_.resize(cont_.size());
        for (size_t pos = 0; pos < all.size(); pos += s.n_batch) {
            if (s.cancel.load()) throw Failure("aborted");
            batch.clear();
            const size_t end = std::min(all.size(), pos + s.n_batch);
            for (size_t i = pos; i < end; i++) batch.add(all[i], (llama_pos) i, 0, i >= first && i + 1 < all.size());
            check_decode(llama_decode(s.ctx.get(), batch.batch), "logprobs");
            for (size_t i = std::max(pos, first); i < end && i + 1 < all.size(); i++) {
                const float * logits = llama_get_logits_ith(s.ctx.get(), (int32_t) (i - pos));
                if (!logits) throw Failure(with_log("logprobs: no logits for position " + std::to_string(i)));
                double mx = -INFINITY;
                for (int v = 0; v < n_vocab; v++) mx = std::max(mx, (double) logits[v]);
                double sum = 0;
                for (int v = 0; v < n_vocab; v++) sum += std::exp((double) logits[v] - mx);
                result_[i - first] = (float) ((double) logits[all[i + 1]] - mx - std::log(sum));
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
            for (llama_token t : prompts_[i])
                if (t < 0 || t >= n_vocab) throw Failure("generate: token id " + std::to_string(t) + " outside the vocabulary");
            total += prompts_[i].size();
        }
        if (total > s.n_ctx) throw Failure("generate: the prompts (" + std::to_string(total) + " tokens) exceed contextSize (" + std::to_string(s.n_ctx) + ")");
        s.gen.clear();
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
            if (s.cancel.load()) throw Failure("aborted");
            check_decode(llama_decode(s.ctx.get(), batch.batch), "generate (prompt)");
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
        result_.tokens.assign(s.gen.size(), -1);
        result_.eog.assign(s.gen.size(), 0);
        BatchOwner batch((int32_t) std::max<size_t>(1, s.gen.size()));
        std::vector<std::pair<size_t, int32_t>> to_sample;
        for (size_t i = 0; i < s.gen.size(); i++) {
            GenSeq & g = s.gen[i];
            if (!g.active) continue;
            to_sample.emplace_back(i, batch.batch.n_tokens);
            batch.add(g.last, g.n_past, (llama_seq_id) i, true);
            g.n_past++;
        }
        if (to_sample.empty()) return;
        if (s.cancel.load()) throw Failure("aborted");
        check_decode(llama_decode(s.ctx.get(), batch.batch), "generate");
        for (auto [seq, idx] : to_sample) sample_into(s, seq, idx, result_);
    }
    Napi::Value Result(Napi::Env env) override { return step_result(env, result_); }

  private:
    StepResult result_;
};

struct CreateOptions {
    uint32_t context_size = 2048, batch_size = 512, max_sequences = 64;
    int32_t threads = 0;
    ggml_type kv_type = GGML_TYPE_F16;
    llama_flash_attn_type flash = LLAMA_FLASH_ATTN_TYPE_AUTO;
    bool hooks = true;
};

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
            llama_context_params cp = llama_context_default_params();
            cp.n_ctx = o_.context_size;
            cp.n_batch = o_.batch_size;
            cp.n_ubatch = o_.batch_size;  // one ubatch per decode, so hook rows follow batch order
            cp.n_seq_max = o_.max_sequences;
            const int32_t threads = o_.threads > 0 ? o_.threads : (int32_t) std::max(1u, std::thread::hardware_concurrency());
            cp.n_threads = threads;
            cp.n_threads_batch = threads;
            cp.kv_unified = true;
            cp.type_k = o_.kv_type;
            cp.type_v = o_.kv_type;
            cp.flash_attn_type = o_.flash;
            cp.no_perf = true;
            cp.abort_callback = abort_callback;
            cp.abort_callback_data = core_.get();
            if (o_.hooks) {
                cp.cb_eval = eval_callback;
                cp.cb_eval_user_data = core_.get();
            }
            llama_context * ctx = llama_init_from_model(model_.get(), cp);
            if (!ctx) throw Failure(with_log("failed to create a llama.cpp context"));
            core_->ctx.reset(ctx);
            core_->n_ctx = llama_n_ctx(ctx);
            core_->n_batch = llama_n_batch(ctx);
            core_->n_seq_max = llama_n_seq_max(ctx);
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

uint32_t get_u32(Napi::Object o, const char * key, uint32_t dflt, uint32_t lo, uint32_t hi) {
    if (!o.Has(key) || o.Get(key).IsUndefined()) return dflt;
    Napi::Value v = o.Get(key);
    if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string(key) + " must be a number");
    double d = v.As<Napi::Number>().DoubleValue();
    if (!(d >= lo && d <= hi) || std::floor(d) != d) {
        throw Napi::RangeError::New(o.Env(), std::string(key) + " must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi));
    }
    return (uint32_t) d;
}

std::vector<llama_token> int32_vec(Napi::Env env, Napi::Value v, const char * what) {
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
        throw Napi::TypeError::New(env, std::string(what) + " must be an Int32Array of token ids");
    }
    Napi::Int32Array a = v.As<Napi::Int32Array>();
    return std::vector<llama_token>(a.Data(), a.Data() + a.ElementLength());
}

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

Napi::Value Session::Create(Napi::Env env, std::shared_ptr<llama_model> model, Napi::Object o) {
    CreateOptions c;
    c.context_size = get_u32(o, "contextSize", c.context_size, 1, 1u << 24);
    c.batch_size = get_u32(o, "batchSize", c.batch_size, 1, 1u << 20);
    c.max_sequences = get_u32(o, "maxSequences", c.max_sequences, 1, (uint32_t) llama_max_parallel_sequences());
    c.threads = (int32_t) get_u32(o, "threads", 0, 0, 4096);
    if (c.batch_size > c.context_size) {
        throw Napi::RangeError::New(env, "batchSize (" + std::to_string(c.batch_size) + ") must not exceed contextSize (" + std::to_string(c.context_size) + ")");
    }
    if (o.Has("kvType") && o.Get("kvType").IsString()) {
        std::string t = o.Get("kvType").As<Napi::String>().Utf8Value();
        if (t == "f16") c.kv_type = GGML_TYPE_F16;
        else if (t == "f32") c.kv_type = GGML_TYPE_F32;
        else if (t == "q8_0") c.kv_type = GGML_TYPE_Q8_0;
        else throw Napi::RangeError::New(env, "kvType must be f16, f32 or q8_0 (got '" + t + "')");
    }
    if (o.Has("flashAttention") && o.Get("flashAttention").IsString()) {
        std::string f = o.Get("flashAttention").As<Napi::String>().Utf8Value();
        if (f == "auto") c.flash = LLAMA_FLASH_ATTN_TYPE_AUTO;
        else if (f == "on") c.flash = LLAMA_FLASH_ATTN_TYPE_ENABLED;
        else if (f == "off") c.flash = LLAMA_FLASH_ATTN_TYPE_DISABLED;
        else throw Napi::RangeError::New(env, "flashAttention must be auto, on or off (got '" + f + "')");
    }
    if (o.Has("hooks")) c.hooks = o.Get("hooks").ToBoolean().Value();
    auto * worker = new CreateWorker(env, std::move(model), c);  // AsyncWorker deletes itself when done
    Napi::Promise p = worker->promise();
    worker->Queue();
    return p;
}

Session::Session(const Napi::CallbackInfo & info) : Napi::ObjectWrap<Session>(info) {
    if (info.Length() < 1 || !info[0].IsExternal()) {
        throw Napi::TypeError::New(info.Env(), "NativeSession cannot be constructed directly; use model.createSession()");
    }
    core_ = *info[0].As<Napi::External<std::shared_ptr<SessionCore>>>().Data();
}

SessionCore & Session::acquire(Napi::Env env) {
    if (!core_) throw Napi::Error::New(env, "session has been disposed");
    if (core_->busy) throw Napi::Error::New(env, "session is busy with another operation");
    core_->busy = true;
    core_->cancel.store(false);
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
            if (in.tokenized && i > 0) throw Napi::TypeError::New(env, "capture: texts must be all strings or all Int32Arrays");
            in.texts.push_back(v.As<Napi::String>().Utf8Value());
        } else {
            if (!in.texts.empty()) throw Napi::TypeError::New(env, "capture: texts must be all strings or all Int32Arrays");
            in.tokenized = true;
            in.tokens.push_back(int32_vec(env, v, "capture: each text"));
        }
    }
    Napi::Object o = info[1].As<Napi::Object>();
    Napi::Array sites = o.Get("sites").As<Napi::Array>();
    for (uint32_t i = 0; i < sites.Length(); i++) {
        int site = sites.Get(i).As<Napi::Number>().Int32Value();
        if (site < 0 || site > core_->n_layer) throw Napi::RangeError::New(env, "capture: site " + std::to_string(site) + " out of range");
        if (std::find(in.sites.begin(), in.sites.end(), site) != in.sites.end()) throw Napi::RangeError::New(env, "capture: duplicate site");
        in.sites.push_back(site);
    }
    // With no sites this is a plain batched decode (the benchmark baseline), allowed without hooks.
    if (!core_->hooks && !in.sites.empty()) throw Napi::Error::New(env, "this session was created with hooks: false and cannot capture");
    const int mode = o.Get("mode").As<Napi::Number>().Int32Value();
    if (mode < 0 || mode > 2) throw Napi::RangeError::New(env, "capture: bad position mode");
    in.mode = (Position) mode;
    if (o.Has("addSpecial")) in.add_special = o.Get("addSpecial").ToBoolean().Value();
    if (o.Has("parseSpecial")) in.parse_special = o.Get("parseSpecial").ToBoolean().Value();
    acquire(env);
    auto * worker = new CaptureWorker(env, core_, std::move(in));  // AsyncWorker deletes itself when done
    Napi::Promise p = worker->promise();
    worker->Queue();
    return p;
}

Napi::Value Session::SetSteering(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    SessionCore & s = acquire(env);
    struct Release {
        SessionCore & s;
        ~Release() { s.busy = false; }
    } release{s};
    // entries: Array<{ block: number, vector: Float32Array }>, already summed per block by the caller.
    const size_t d = (size_t) s.n_embd;
    std::vector<float> cvec;
    std::vector<float> steer0;
    int lo = -1, hi = -1;
    if (info.Length() > 0 && info[0].IsArray()) {
        Napi::Array entries = info[0].As<Napi::Array>();
        for (uint32_t i = 0; i < entries.Length(); i++) {
            Napi::Object e = entries.Get(i).As<Napi::Object>();
            const int block = e.Get("block").As<Napi::Number>().Int32Value();
            Napi::Value vv = e.Get("vector");
            if (!vv.IsTypedArray() || vv.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
                throw Napi::TypeError::New(env, "setSteering: vector must be a Float32Array");
            Napi::Float32Array v = vv.As<Napi::Float32Array>();
            if (block < 0 || block >= s.n_layer) throw Napi::RangeError::New(env, "setSteering: block " + std::to_string(block) + " out of range");
            if (v.ElementLength() != d)
                throw Napi::RangeError::New(env, "setSteering: vector has length " + std::to_string(v.ElementLength()) + ", the model's nEmbd is " + std::to_string(d));
            if (block == 0) {
                if (!s.hooks) throw Napi::Error::New(env, "steering layer 1 needs the eval hook; this session was created with hooks: false");
                steer0.assign(v.Data(), v.Data() + d);
                continue;
            }
            if (cvec.empty()) cvec.assign(d * (size_t) (s.n_layer - 1), 0.0f);
            std::copy(v.Data(), v.Data() + d, cvec.begin() + (ptrdiff_t) ((size_t) (block - 1) * d));
            lo = lo < 0 ? block : std::min(lo, block);
            hi = std::max(hi, block);
        }
    }
    clear_log_errors();
    // llama.cpp's buffer entry j is added to the output of block j+1 (block 0 has no entry).
    const int32_t rc = cvec.empty() ? llama_set_adapter_cvec(s.ctx.get(), nullptr, 0, s.n_embd, -1, -1)
                                    : llama_set_adapter_cvec(s.ctx.get(), cvec.data(), cvec.size(), s.n_embd, lo, hi);
    if (rc != 0) throw Napi::Error::New(env, with_log("setSteering: llama_set_adapter_cvec failed"));
    s.steer0 = std::move(steer0);
    return env.Undefined();
}

Napi::Value Session::Logprobs(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!core_) throw Napi::Error::New(env, "session has been disposed");
    auto prompt = int32_vec(env, info[0], "logprobs: prompt");
    auto cont = int32_vec(env, info[1], "logprobs: continuation");
    acquire(env);
    auto * worker = new LogprobsWorker(env, core_, std::move(prompt), std::move(cont));  // self-deleting AsyncWorker
    Napi::Promise p = worker->promise();
    worker->Queue();
    return p;
}

Napi::Value Session::GenStart(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (!core_) throw Napi::Error::New(env, "session has been disposed");
    if (info.Length() < 2 || !info[0].IsArray() || !info[1].IsObject()) throw Napi::TypeError::New(env, "genStart(prompts, sampling)");
    std::vector<std::vector<llama_token>> prompts;
    Napi::Array arr = info[0].As<Napi::Array>();
    for (uint32_t i = 0; i < arr.Length(); i++) prompts.push_back(int32_vec(env, arr.Get(i), "generate: prompt"));
    Napi::Object o = info[1].As<Napi::Object>();
    SamplingParams p;
    if (o.Has("temperature")) p.temperature = o.Get("temperature").As<Napi::Number>().FloatValue();
    if (o.Has("topP")) p.top_p = o.Get("topP").As<Napi::Number>().FloatValue();
    if (o.Has("topK")) p.top_k = o.Get("topK").As<Napi::Number>().Int32Value();
    if (o.Has("minP")) p.min_p = o.Get("minP").As<Napi::Number>().FloatValue();
    if (o.Has("seed")) p.seed = o.Get("seed").As<Napi::Number>().Uint32Value();
    if (o.Has("grammar") && o.Get("grammar").IsString()) p.grammar = o.Get("grammar").As<Napi::String>().Utf8Value();
    acquire(env);
    auto * worker = new GenStartWorker(env, core_, std::move(prompts), std::move(p));  // self-deleting AsyncWorker
    Napi::Promise pr = worker->promise();
    worker->Queue();
    return pr;
}

Napi::Value Session::GenStep(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    acquire(env);
    auto * worker = new GenStepWorker(env, core_);  // self-deleting AsyncWorker
    Napi::Promise p = worker->promise();
    worker->Queue();
    return p;
}

Napi::Value Session::GenStop(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    SessionCore & s = acquire(env);
    s.busy = false;
    const int32_t seq = info[0].As<Napi::Number>().Int32Value();
    if (seq < 0 || (size_t) seq >= s.gen.size()) throw Napi::RangeError::New(env, "genStop: no such sequence");
    if (s.gen[(size_t) seq].active) {
        s.gen[(size_t) seq].active = false;
        llama_memory_seq_rm(llama_get_memory(s.ctx.get()), seq, -1, -1);
    }
    return env.Undefined();
}

Napi::Value Session::Cancel(const Napi::CallbackInfo & info) {
    if (core_) core_->cancel.store(true);
    return info.Env().Undefined();
}

Napi::Value Session::Dispose(const Napi::CallbackInfo & info) {
    // A running worker holds its own reference; the context is freed when it finishes.
    if (core_) core_->cancel.store(true);
    core_.reset();
    return info.Env().Undefined();
}

}  // namespace vl
