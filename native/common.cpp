#include "common.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace vl {

namespace {

thread_local std::string t_errors;
thread_local ggml_log_level t_last_level = GGML_LOG_LEVEL_NONE;
int g_print_level = GGML_LOG_LEVEL_NONE + 100;  // print nothing unless VALUELENS_LOG asks

int parse_level(const char * s) {
    if (!s) return GGML_LOG_LEVEL_NONE + 100;
    if (!strcmp(s, "debug")) return GGML_LOG_LEVEL_DEBUG;
    if (!strcmp(s, "info")) return GGML_LOG_LEVEL_INFO;
    if (!strcmp(s, "warn")) return GGML_LOG_LEVEL_WARN;
    if (!strcmp(s, "error")) return GGML_LOG_LEVEL_ERROR;
    return GGML_LOG_LEVEL_NONE + 100;
}

void on_log(ggml_log_level level, const char * text, void *) {
    ggml_log_level effective = level == GGML_LOG_LEVEL_CONT ? t_last_level : level;
    if (level != GGML_LOG_LEVEL_CONT) t_last_level = level;
    if (effective == GGML_LOG_LEVEL_ERROR || effective == GGML_LOG_LEVEL_WARN) {
        if (effective == GGML_LOG_LEVEL_ERROR || t_errors.size() < 4096) t_errors += text;
        if (t_errors.size() > 8192) t_errors.erase(0, t_errors.size() - 8192);
    }
    if ((int) effective >= g_print_level) {
        fputs(text, stderr);
    }
}

}  // namespace

void install_log_handler() {
    static std::once_flag once;
    std::call_once(once, [] {
        g_print_level = parse_level(std::getenv("VALUELENS_LOG"));
        llama_log_set(on_log, nullptr);
        llama_backend_init();
    });
}

bool rpc_in_use() {
    ggml_backend_reg_t rpc = ggml_backend_reg_by_name("RPC");
    if (!rpc) return false;
    for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
        if (ggml_backend_dev_backend_reg(ggml_backend_dev_get(i)) == rpc) return true;
    }
    return false;
}

std::string take_log_errors() {
    std::string out;
    out.swap(t_errors);
    while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
    return out;
}

void clear_log_errors() { t_errors.clear(); }

std::string with_log(const std::string & what) {
    std::string log = take_log_errors();
    return log.empty() ? what : what + " (llama.cpp: " + log + ")";
}

std::vector<llama_token> tokenize(const llama_vocab * vocab, const std::string & text, bool add_special, bool parse_special) {
    std::vector<llama_token> out(text.size() + 8);
    int32_t n = llama_tokenize(vocab, text.data(), (int32_t) text.size(), out.data(), (int32_t) out.size(), add_special, parse_special);
    if (n < 0) {
        out.resize((size_t) -n);
        n = llama_tokenize(vocab, text.data(), (int32_t) text.size(), out.data(), (int32_t) out.size(), add_special, parse_special);
    }
    if (n < 0) throw Failure(with_log("tokenization failed"));
    out.resize((size_t) n);
    return out;
}

std::string detokenize(const llama_vocab * vocab, const llama_token * tokens, size_t n, bool remove_special, bool unparse_special) {
    const int32_t n_vocab = llama_vocab_n_tokens(vocab);
    for (size_t i = 0; i < n; i++) {
        if (tokens[i] < 0 || tokens[i] >= n_vocab) {
            throw Failure("token id " + std::to_string(tokens[i]) + " at index " + std::to_string(i) +
                          " is outside the vocabulary (0.." + std::to_string(n_vocab - 1) + ")");
        }
    }
    std::string out(n * 8 + 16, '\0');
    int32_t len = llama_detokenize(vocab, tokens, (int32_t) n, out.data(), (int32_t) out.size(), remove_special, unparse_special);
    if (len < 0) {
        out.resize((size_t) -len);
        len = llama_detokenize(vocab, tokens, (int32_t) n, out.data(), (int32_t) out.size(), remove_special, unparse_special);
    }
    if (len < 0) throw Failure(with_log("detokenization failed"));
    out.resize((size_t) len);
    return out;
}

Napi::Float32Array to_float32_array(Napi::Env env, std::vector<float> && data) {
    const size_t n = data.size();
    if (n == 0) return Napi::Float32Array::New(env, 0);
    auto owned = std::make_unique<std::vector<float>>(std::move(data));
    napi_value ab = nullptr;
    napi_status st = napi_generic_failure;
    if (!fault("external-buffer")) {
        st = napi_create_external_arraybuffer(
            env, owned->data(), n * sizeof(float),
            [](napi_env, void *, void * hint) { delete static_cast<std::vector<float> *>(hint); }, owned.get(), &ab);
    }
    if (st == napi_ok) {
        owned.release();  // now owned by the ArrayBuffer's finalizer
        return Napi::Float32Array::New(env, n, Napi::ArrayBuffer(env, ab), 0);
    }
    // External buffers refused (e.g. napi_no_external_buffers_allowed): copy into a V8-owned buffer.
    Napi::Float32Array copy = Napi::Float32Array::New(env, n);
    std::memcpy(copy.Data(), owned->data(), n * sizeof(float));
    return copy;
}

bool fault(const char * name) {
    const char * f = std::getenv("VALUELENS_FAULT");
    return f && std::strcmp(f, name) == 0;
}

Napi::Int32Array to_int32_array(Napi::Env env, const std::vector<int32_t> & data) {
    Napi::Int32Array arr = Napi::Int32Array::New(env, data.size());
    if (!data.empty()) std::memcpy(arr.Data(), data.data(), data.size() * sizeof(int32_t));
    return arr;
}

void check_token_ids(const std::vector<llama_token> & tokens, int n_vocab, const std::string & what) {
    for (llama_token t : tokens)
        if (t < 0 || t >= n_vocab) throw Failure(what + "token id " + std::to_string(t) + " outside the vocabulary");
}

}  // namespace vl
