// Sockets first: on Windows winsock2.h must precede windows.h (for the RPC endpoint probe).
#ifdef _WIN32
#  ifndef WIN32_LEAN_AND_MEAN
#    define WIN32_LEAN_AND_MEAN
#  endif
#  include <winsock2.h>
#  include <ws2tcpip.h>
#else
#  include <fcntl.h>
#  include <netdb.h>
#  include <poll.h>
#  include <sys/socket.h>
#  include <unistd.h>
#  include <cerrno>
#endif

#include "model.h"

#include "backends.h"

#include "session.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>


namespace vl {

namespace {

struct LoadOptions {
    std::string path;
    int32_t gpu_layers = 0;
    bool gpu_layers_set = false;
    std::vector<std::string> rpc;  // "host:port" of llama.cpp rpc-server hosts
    bool mmap = true;
    bool vocab_only = false;
    bool check_tensors = false;
};

// Cheap checks done before llama.cpp sees the file, so common mistakes get a precise message.
void precheck_file(const std::string & path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw Failure("cannot open model file '" + path + "': no such file or not readable");
    char magic[4] = {0, 0, 0, 0};
    f.read(magic, 4);
    if (f.gcount() < 4 || std::string(magic, 4) != "GGUF") {
        throw Failure("'" + path + "' is not a GGUF file (bad magic bytes)");
    }
}

// ---- RPC ----------------------------------------------------------------------------------------------
// ggml's RPC client aborts the process on a bad endpoint or a refused connection, so endpoints are parsed
// and probed here first and those failures become JS errors. The RPC functions are looked up through the
// backend registry, so builds without GGML_RPC (or an installed ggml without it) still link.

bool parse_endpoint(const std::string & ep, std::string & host, std::string & port) {
    const size_t colon = ep.find(':');
    if (colon == std::string::npos || colon == 0 || ep.find(':', colon + 1) != std::string::npos) return false;
    host = ep.substr(0, colon);
    port = ep.substr(colon + 1);
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos) return false;
    const long p = std::strtol(port.c_str(), nullptr, 10);
    return p >= 1 && p <= 65535;
}

#ifdef _WIN32
using socket_handle = SOCKET;
const socket_handle no_socket = INVALID_SOCKET;
void close_socket(socket_handle s) { closesocket(s); }
#else
using socket_handle = int;
const socket_handle no_socket = -1;
void close_socket(socket_handle s) { ::close(s); }
#endif

struct AddrInfoFree {
    void operator()(addrinfo * a) const { freeaddrinfo(a); }
};
struct SocketCloser {
    socket_handle s = no_socket;
    ~SocketCloser() { if (s != no_socket) close_socket(s); }
};

// True if a TCP connection to host:port opens within timeout_ms (blocking connect on Windows).
bool tcp_reachable(const std::string & host, const std::string & port, int timeout_ms) {
#ifdef _WIN32
    WSADATA wsa;
    if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0) return false;
    struct WsaCleanup { ~WsaCleanup() { WSACleanup(); } } wsa_cleanup;
#endif
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo * found = nullptr;
    if (getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || !found) return false;
    std::unique_ptr<addrinfo, AddrInfoFree> list(found);
    for (addrinfo * a = list.get(); a; a = a->ai_next) {
        SocketCloser sock;
        sock.s = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (sock.s == no_socket) continue;
#ifdef _WIN32
        (void) timeout_ms;
        if (::connect(sock.s, a->ai_addr, (int) a->ai_addrlen) == 0) return true;
#else
        const int flags = fcntl(sock.s, F_GETFL, 0);
        fcntl(sock.s, F_SETFL, flags | O_NONBLOCK);
        if (::connect(sock.s, a->ai_addr, a->ai_addrlen) == 0) return true;
        if (errno != EINPROGRESS) continue;
        pollfd pfd{sock.s, POLLOUT, 0};
        if (poll(&pfd, 1, timeout_ms) != 1) continue;
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(sock.s, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) return true;
#endif
    }
    return false;
}

// The devices of every RPC server (in order), then the local GPUs, as llama.cpp orders them by default.
std::vector<ggml_backend_dev_t> rpc_device_list(const std::vector<std::string> & endpoints) {
    ggml_backend_reg_t rpc = ggml_backend_reg_by_name("RPC");
    using add_server_fn = ggml_backend_reg_t (*)(const char *);
    auto add_server = rpc ? (add_server_fn) ggml_backend_reg_get_proc_address(rpc, "ggml_backend_rpc_add_server") : nullptr;
    if (!add_server) throw Failure("rpc: this build has no RPC backend (backendInfo().rpc is false); rebuild without VALUELENS_RPC=0");
    std::vector<ggml_backend_dev_t> devices;
    for (const auto & ep : endpoints) {
        std::string host, port;
        if (!parse_endpoint(ep, host, port)) throw Failure("rpc: bad endpoint '" + ep + "' (want host:port, port 1-65535)");
        if (!tcp_reachable(host, port, 5000)) throw Failure("rpc: cannot connect to rpc-server at " + ep);
        ggml_backend_reg_t reg = add_server(ep.c_str());
        if (!reg || ggml_backend_reg_dev_count(reg) == 0) throw Failure(with_log("rpc: server " + ep + " offers no devices"));
        for (size_t i = 0; i < ggml_backend_reg_dev_count(reg); i++) devices.push_back(ggml_backend_reg_dev_get(reg, i));
    }
    const size_t n_rpc = devices.size();
    std::vector<ggml_backend_dev_t> igpus;
    for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
        ggml_backend_dev_t dev = ggml_backend_dev_get(i);
        if (ggml_backend_dev_backend_reg(dev) == rpc) continue;
        const auto type = ggml_backend_dev_type(dev);
        if (type == GGML_BACKEND_DEVICE_TYPE_GPU) devices.push_back(dev);
        else if (type == GGML_BACKEND_DEVICE_TYPE_IGPU) igpus.push_back(dev);
    }
    if (devices.size() == n_rpc) devices.insert(devices.end(), igpus.begin(), igpus.end());  // iGPUs only without a GPU
    devices.push_back(nullptr);  // llama_model_params.devices is NULL-terminated
    return devices;
}

class LoadWorker : public Napi::AsyncWorker {
  public:
    LoadWorker(Napi::Env env, LoadOptions opts)
        : Napi::AsyncWorker(env, "valuelens.loadModel"), deferred_(Napi::Promise::Deferred::New(env)), opts_(std::move(opts)) {}

    Napi::Promise promise() { return deferred_.Promise(); }

    void Execute() override {
        try {
            if (auto err = load_backends(); !err.empty()) throw Failure(err);
            clear_log_errors();
            precheck_file(opts_.path);
            llama_model_params params = llama_model_default_params();
            params.n_gpu_layers = opts_.gpu_layers;
            std::vector<ggml_backend_dev_t> devices;  // must outlive the load call
            if (!opts_.rpc.empty()) {
                devices = rpc_device_list(opts_.rpc);
                params.devices = devices.data();
                // Layers only reach the servers when offloaded: default to all of them.
                if (!opts_.gpu_layers_set) params.n_gpu_layers = -1;
            }
            if (!opts_.mmap) params.load_mode = LLAMA_LOAD_MODE_NONE;
            params.vocab_only = opts_.vocab_only;
            params.check_tensors = opts_.check_tensors;
            llama_model * m = llama_model_load_from_file(opts_.path.c_str(), params);
            if (!m) throw Failure(with_log("failed to load model '" + opts_.path + "'"));
            model_.reset(m, ModelFree{});
            if (opts_.rpc.empty() && params.n_gpu_layers != 0) {
                for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
                    const auto type = ggml_backend_dev_type(ggml_backend_dev_get(i));
                    if (type == GGML_BACKEND_DEVICE_TYPE_GPU || type == GGML_BACKEND_DEVICE_TYPE_IGPU) offloaded_ = true;
                }
            }
        } catch (const std::exception & e) {
            SetError(e.what());
        }
    }

    void OnOK() override {
        Napi::Env env = Env();
        auto * data = env.GetInstanceData<AddonData>();
        auto boxed = std::make_unique<std::shared_ptr<llama_model>>(model_);
        auto holder = Napi::External<std::shared_ptr<llama_model>>::New(
            env, boxed.get(), [](Napi::Env, std::shared_ptr<llama_model> * p) { std::unique_ptr<std::shared_ptr<llama_model>> release(p); });
        boxed.release();  // owned by the External's finalizer now
        Napi::Object obj = data->model_ctor.New({holder, Napi::Boolean::New(env, opts_.vocab_only), Napi::Boolean::New(env, offloaded_)});
        holder.Data()->reset();  // the Model holds the only reference, so dispose() frees the weights (and remote RPC buffers) at once
        deferred_.Resolve(obj);
    }

    void OnError(const Napi::Error & err) override { deferred_.Reject(err.Value()); }

  private:
    Napi::Promise::Deferred deferred_;
    LoadOptions opts_;
    std::shared_ptr<llama_model> model_;
    bool offloaded_ = false;
};

std::string meta_string(const llama_model * m, const char * key) {
    char buf[512];
    int32_t n = llama_model_meta_val_str(m, key, buf, sizeof(buf));
    return n < 0 ? std::string() : std::string(buf, std::min<size_t>((size_t) n, sizeof(buf) - 1));
}

}  // namespace

Napi::Function Model::Define(Napi::Env env) {
    return DefineClass(env, "NativeModel",
                       {
                           InstanceMethod<&Model::Info>("info"),
                           InstanceMethod<&Model::Tokenize>("tokenize"),
                           InstanceMethod<&Model::Detokenize>("detokenize"),
                           InstanceMethod<&Model::IsEog>("isEog"),
                           InstanceMethod<&Model::CreateSession>("createSession"),
                           InstanceMethod<&Model::Dispose>("dispose"),
                       });
}

Model::Model(const Napi::CallbackInfo & info) : Napi::ObjectWrap<Model>(info) {
    if (info.Length() < 1 || !info[0].IsExternal()) {
        throw Napi::TypeError::New(info.Env(), "NativeModel cannot be constructed directly; use loadModel()");
    }
    model_ = *info[0].As<Napi::External<std::shared_ptr<llama_model>>>().Data();
    vocab_only_ = info.Length() > 1 && info[1].ToBoolean().Value();
    offloaded_ = info.Length() > 2 && info[2].ToBoolean().Value();
    // Tell V8 how much native memory this small object keeps alive, so it is collected promptly.
    external_bytes_ = model_ ? (int64_t) llama_model_size(model_.get()) : 0;
    if (external_bytes_ > 0) {
        int64_t total = 0;
        napi_adjust_external_memory(info.Env(), external_bytes_, &total);
    }
}

Model::~Model() {
    if (external_bytes_ > 0) {
        int64_t total = 0;
        napi_adjust_external_memory(Env(), -external_bytes_, &total);
    }
}

Napi::Value Model::Load(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "loadModel: path must be a string");
    LoadOptions opts;
    opts.path = info[0].As<Napi::String>().Utf8Value();
    if (info.Length() > 1 && info[1].IsObject()) {
        Napi::Object o = info[1].As<Napi::Object>();
        if (o.Has("gpuLayers") && !o.Get("gpuLayers").IsUndefined()) {
            opts.gpu_layers = o.Get("gpuLayers").As<Napi::Number>().Int32Value();
            opts.gpu_layers_set = true;
        }
        if (o.Has("rpc") && !o.Get("rpc").IsUndefined()) {
            Napi::Value v = o.Get("rpc");
            if (!v.IsArray()) throw Napi::TypeError::New(env, "loadModel: rpc must be an array of \"host:port\" strings");
            Napi::Array a = v.As<Napi::Array>();
            for (uint32_t i = 0; i < a.Length(); i++) {
                Napi::Value e = a.Get(i);
                if (!e.IsString()) throw Napi::TypeError::New(env, "loadModel: rpc must be an array of \"host:port\" strings");
                opts.rpc.push_back(e.As<Napi::String>().Utf8Value());
            }
        }
        if (o.Has("mmap")) opts.mmap = o.Get("mmap").ToBoolean().Value();
        if (o.Has("vocabOnly")) opts.vocab_only = o.Get("vocabOnly").ToBoolean().Value();
        if (o.Has("checkTensors")) opts.check_tensors = o.Get("checkTensors").ToBoolean().Value();
    }
    return queue_worker<LoadWorker>(env, std::move(opts));
}

const llama_model & Model::live(Napi::Env env) const {
    if (!model_) throw Napi::Error::New(env, "model has been disposed");
    return *model_;
}

Napi::Value Model::Info(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    const llama_model * m = &live(env);
    const llama_vocab * vocab = llama_model_get_vocab(m);
    Napi::Object o = Napi::Object::New(env);
    o.Set("arch", meta_string(m, "general.architecture"));
    o.Set("name", meta_string(m, "general.name"));
    char desc[256];
    llama_model_desc(m, desc, sizeof(desc));
    o.Set("description", std::string(desc));
    // A vocab-only load has no hyperparameters; llama.cpp aborts if asked for per-layer ones.
    const bool has_layers = !vocab_only_ && llama_model_n_layer(m) > 0;
    o.Set("vocabOnly", vocab_only_);
    o.Set("nLayer", has_layers ? llama_model_n_layer(m) : 0);
    o.Set("nEmbd", has_layers ? llama_model_n_embd(m) : 0);
    o.Set("nHead", has_layers ? llama_model_n_head(m) : 0);
    o.Set("nHeadKv", has_layers ? llama_model_n_head_kv(m) : 0);
    o.Set("nVocab", llama_vocab_n_tokens(vocab));
    o.Set("contextLength", has_layers ? llama_model_n_ctx_train(m) : 0);
    o.Set("nParams", (double) llama_model_n_params(m));
    o.Set("sizeBytes", (double) llama_model_size(m));
    o.Set("bos", llama_vocab_bos(vocab));
    o.Set("eos", llama_vocab_eos(vocab));
    o.Set("addBos", llama_vocab_get_add_bos(vocab));
    const char * tmpl = llama_model_chat_template(m, nullptr);
    o.Set("chatTemplate", tmpl ? Napi::Value(Napi::String::New(env, tmpl)) : env.Null());
    Napi::Object meta = Napi::Object::New(env);
    const int32_t n_meta = llama_model_meta_count(m);
    std::vector<char> key(256), val(4096);
    for (int32_t i = 0; i < n_meta; i++) {
        int32_t kn = llama_model_meta_key_by_index(m, i, key.data(), key.size());
        if (kn < 0) continue;
        int32_t vn = llama_model_meta_val_str_by_index(m, i, val.data(), val.size());
        if (vn >= (int32_t) val.size()) {
            val.resize((size_t) vn + 1);
            vn = llama_model_meta_val_str_by_index(m, i, val.data(), val.size());
        }
        meta.Set(std::string(key.data()), vn < 0 ? std::string() : std::string(val.data()));
    }
    o.Set("metadata", meta);
    return o;
}

Napi::Value Model::Tokenize(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    const llama_model * m = &live(env);
    if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "tokenize: text must be a string");
    const bool add_special = info.Length() > 1 ? info[1].ToBoolean().Value() : true;
    const bool parse_special = info.Length() > 2 ? info[2].ToBoolean().Value() : false;
    try {
        auto toks = tokenize(llama_model_get_vocab(m), info[0].As<Napi::String>().Utf8Value(), add_special, parse_special);
        return to_int32_array(env, toks);
    } catch (const std::exception & e) {
        throw Napi::Error::New(env, e.what());
    }
}

Napi::Value Model::Detokenize(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    const llama_model * m = &live(env);
    if (info.Length() < 1 || !info[0].IsTypedArray() || info[0].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
        throw Napi::TypeError::New(env, "detokenize: tokens must be an Int32Array");
    }
    Napi::Int32Array toks = info[0].As<Napi::Int32Array>();
    const bool remove_special = info.Length() > 1 && info[1].ToBoolean().Value();
    const bool unparse_special = info.Length() > 2 && info[2].ToBoolean().Value();
    try {
        return Napi::String::New(env, detokenize(llama_model_get_vocab(m), toks.Data(), toks.ElementLength(), remove_special, unparse_special));
    } catch (const std::exception & e) {
        throw Napi::Error::New(env, e.what());
    }
}

Napi::Value Model::IsEog(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    const llama_model * m = &live(env);
    return Napi::Boolean::New(env, llama_vocab_is_eog(llama_model_get_vocab(m), info[0].As<Napi::Number>().Int32Value()));
}

Napi::Value Model::CreateSession(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    live(env);
    if (vocab_only_) throw Napi::Error::New(env, "cannot create a session: the model was loaded with vocabOnly");
    Napi::Object opts = info.Length() > 0 && info[0].IsObject() ? info[0].As<Napi::Object>() : Napi::Object::New(env);
    return Session::Create(env, model_, opts, offloaded_);
}

Napi::Value Model::Dispose(const Napi::CallbackInfo & info) {
    // Sessions hold their own reference, so the weights stay until the last of them is gone;
    // the last reference is dropped on a worker thread (unmapping/freeing weights takes a while).
    Napi::Env env = info.Env();
    if (external_bytes_ > 0) {
        int64_t total = 0;
        napi_adjust_external_memory(env, -external_bytes_, &total);
        external_bytes_ = 0;
    }
    release_off_thread(env, model_);
    return env.Undefined();
}

}  // namespace vl
