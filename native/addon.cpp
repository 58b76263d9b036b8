// Module entry: registers the Model and Session classes and loadModel().
#include "model.h"
#include "session.h"

namespace vl {

Napi::Value BackendInfo(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("build", VALUELENS_BACKEND[0] ? VALUELENS_BACKEND : "cpu");
    o.Set("systemInfo", llama_print_system_info());
    o.Set("gpuOffload", llama_supports_gpu_offload());
    o.Set("mmap", llama_supports_mmap());
    o.Set("rpc", llama_supports_rpc());
    o.Set("maxSequences", (double) llama_max_parallel_sequences());
    return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
    install_log_handler();
    auto data = std::make_unique<AddonData>();
    Napi::Function model = Model::Define(env);
    Napi::Function session = Session::Define(env);
    data->model_ctor = Napi::Persistent(model);
    data->session_ctor = Napi::Persistent(session);
    env.SetInstanceData<AddonData>(data.release());  // Node-API deletes it at environment teardown
    exports.Set("NativeModel", model);
    exports.Set("NativeSession", session);
    exports.Set("loadModel", Napi::Function::New(env, Model::Load, "loadModel"));
    exports.Set("backendInfo", Napi::Function::New(env, BackendInfo, "backendInfo"));
    return exports;
}

}  // namespace vl

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return vl::Init(env, exports); }

NODE_API_MODULE(valuelens, InitModule)
