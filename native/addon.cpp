// Module entry: loads the backends, registers the Model and Session classes, loadModel() and quantize().
#include "backends.h"
#include "model.h"
#include "quantize.h"
#include "session.h"

namespace vl {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
    install_log_handler();
    load_backends();  // a failure is reported by loadModel() and backendInfo().loadError, not by require()
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
    exports.Set("quantize", Napi::Function::New(env, Quantize, "quantize"));
    return exports;
}

}  // namespace vl

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return vl::Init(env, exports); }

NODE_API_MODULE(valuelens, InitModule)
