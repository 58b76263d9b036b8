#include "quantize.h"

#include "backends.h"
#include "common.h"

#include <cmath>
#include <string>
#include <utility>

namespace vl {

namespace {

struct FtypeName {
    const char * name;
    llama_ftype ftype;
};

// The weight types users ask for by name (llama-quantize's spelling).
constexpr FtypeName kFtypes[] = {
    {"F16", LLAMA_FTYPE_MOSTLY_F16},       {"BF16", LLAMA_FTYPE_MOSTLY_BF16},     {"Q8_0", LLAMA_FTYPE_MOSTLY_Q8_0},
    {"Q6_K", LLAMA_FTYPE_MOSTLY_Q6_K},     {"Q5_K_M", LLAMA_FTYPE_MOSTLY_Q5_K_M}, {"Q5_K_S", LLAMA_FTYPE_MOSTLY_Q5_K_S},
    {"Q5_0", LLAMA_FTYPE_MOSTLY_Q5_0},     {"Q4_K_M", LLAMA_FTYPE_MOSTLY_Q4_K_M}, {"Q4_K_S", LLAMA_FTYPE_MOSTLY_Q4_K_S},
    {"Q4_0", LLAMA_FTYPE_MOSTLY_Q4_0},     {"Q4_1", LLAMA_FTYPE_MOSTLY_Q4_1},     {"IQ4_NL", LLAMA_FTYPE_MOSTLY_IQ4_NL},
    {"Q3_K_M", LLAMA_FTYPE_MOSTLY_Q3_K_M}, {"Q2_K", LLAMA_FTYPE_MOSTLY_Q2_K},
};

struct QuantizeOptions {
    std::string input, output;
    llama_ftype ftype = LLAMA_FTYPE_MOSTLY_Q8_0;
    int32_t threads = 0;
    bool allow_requantize = false;
    bool pure = false;
};

class QuantizeWorker : public Napi::AsyncWorker {
  public:
    QuantizeWorker(Napi::Env env, QuantizeOptions opts)
        : Napi::AsyncWorker(env, "valuelens.quantize"), deferred_(Napi::Promise::Deferred::New(env)), opts_(std::move(opts)) {}

    Napi::Promise promise() { return deferred_.Promise(); }

    void Execute() override {
        try {
            if (auto err = load_backends(); !err.empty()) throw Failure(err);
            clear_log_errors();
            llama_model_quantize_params p = llama_model_quantize_default_params();
            p.ftype = opts_.ftype;
            p.nthread = opts_.threads;
            p.allow_requantize = opts_.allow_requantize;
            p.pure = opts_.pure;
            const uint32_t rc = llama_model_quantize(opts_.input.c_str(), opts_.output.c_str(), &p);
            if (rc != 0) throw Failure(with_log("quantize: llama.cpp failed to quantize '" + opts_.input + "'"));
        } catch (const std::exception & e) {
            SetError(e.what());
        }
    }

    void OnOK() override { deferred_.Resolve(Env().Undefined()); }
    void OnError(const Napi::Error & err) override { deferred_.Reject(err.Value()); }

  private:
    Napi::Promise::Deferred deferred_;
    QuantizeOptions opts_;
};

}  // namespace

Napi::Value Quantize(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 3 || !info[0].IsString() || !info[1].IsString() || !info[2].IsObject()) {
        throw Napi::TypeError::New(env, "quantize(input: string, output: string, options: object)");
    }
    QuantizeOptions opts;
    opts.input = info[0].As<Napi::String>().Utf8Value();
    opts.output = info[1].As<Napi::String>().Utf8Value();
    Napi::Object o = info[2].As<Napi::Object>();
    Napi::Value type = o.Get("type");
    if (!type.IsString()) throw Napi::TypeError::New(env, "quantize: type must be a string such as \"Q8_0\"");
    const std::string t = type.As<Napi::String>().Utf8Value();
    bool found = false;
    std::string names;
    for (const auto & f : kFtypes) {
        names += (names.empty() ? "" : ", ") + std::string(f.name);
        if (t == f.name) {
            opts.ftype = f.ftype;
            found = true;
        }
    }
    if (!found) throw Napi::TypeError::New(env, "quantize: unknown type '" + t + "' (known: " + names + ")");
    if (o.Has("threads") && !o.Get("threads").IsUndefined()) {
        Napi::Value v = o.Get("threads");
        const double d = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
        if (!(d >= 1 && d <= 1024 && std::floor(d) == d)) throw Napi::TypeError::New(env, "quantize: threads must be an integer in 1..1024");
        opts.threads = (int32_t) d;
    }
    opts.allow_requantize = o.Has("allowRequantize") && o.Get("allowRequantize").ToBoolean().Value();
    opts.pure = o.Has("pure") && o.Get("pure").ToBoolean().Value();
    return queue_worker<QuantizeWorker>(env, std::move(opts));
}

}  // namespace vl
