// Model: a loaded GGUF (llama_model), shared by every session created from it.
#pragma once

#include "common.h"

namespace vl {

class Model : public Napi::ObjectWrap<Model> {
  public:
    static Napi::Function Define(Napi::Env env);
    explicit Model(const Napi::CallbackInfo & info);
    ~Model() override;

    // Called from JS through the module export loadModel(path, opts).
    static Napi::Value Load(const Napi::CallbackInfo & info);

    std::shared_ptr<llama_model> handle() const { return model_; }
    bool vocab_only() const { return vocab_only_; }

  private:
    Napi::Value Info(const Napi::CallbackInfo & info);
    Napi::Value Tokenize(const Napi::CallbackInfo & info);
    Napi::Value Detokenize(const Napi::CallbackInfo & info);
    Napi::Value IsEog(const Napi::CallbackInfo & info);
    Napi::Value CreateSession(const Napi::CallbackInfo & info);
    Napi::Value Dispose(const Napi::CallbackInfo & info);

    const llama_model & live(Napi::Env env) const;

    std::shared_ptr<llama_model> model_;
    bool vocab_only_ = false;
    bool offloaded_ = false;  // some layers run on a GPU device (not RPC, not the CPU)
    int64_t external_bytes_ = 0;
};

}  // namespace vl
