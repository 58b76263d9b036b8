#include "backends.h"

#include "common.h"
#include "ggml-backend.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <vector>

#if defined(_WIN32)
#include <windows.h>
#else
#include <dlfcn.h>
#endif

#ifndef VALUELENS_CPU_BUILD
#define VALUELENS_CPU_BUILD "installed"
#endif

namespace fs = std::filesystem;

namespace vl {

namespace {

struct LoadState {
    std::string error;
    std::string dir;       // where the backend libraries were found ("" for a static build)
    std::string forced;    // VALUELENS_CPU_VARIANT, if set
};

LoadState g_state;

#if defined(_WIN32)
constexpr const char * kPrefix = "ggml-";
constexpr const char * kExt = ".dll";
#elif defined(__APPLE__)
constexpr const char * kPrefix = "libggml-";
constexpr const char * kExt = ".so";
#else
constexpr const char * kPrefix = "libggml-";
constexpr const char * kExt = ".so";
#endif

// The file a code or data address belongs to (the addon itself, or a loaded backend library).
std::string file_of(const void * addr) {
#if defined(_WIN32)
    HMODULE mod = nullptr;
    if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                            static_cast<LPCWSTR>(addr), &mod)) {
        return "";
    }
    wchar_t buf[4096];
    DWORD n = GetModuleFileNameW(mod, buf, 4096);
    return n ? fs::path(std::wstring(buf, n)).u8string() : "";
#else
    Dl_info dl{};
    return dladdr(addr, &dl) && dl.dli_fname ? std::string(dl.dli_fname) : "";
#endif
}

// Backend libraries in a folder: {name after the prefix, path}. libggml-base is the core, not a backend.
std::vector<std::pair<std::string, fs::path>> backend_files(const fs::path & dir) {
    std::vector<std::pair<std::string, fs::path>> out;
    std::error_code ec;
    for (fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().u8string();
        const std::string prefix = kPrefix;
        const std::string ext = kExt;
        if (name.size() <= prefix.size() + ext.size() || name.compare(0, prefix.size(), prefix) != 0) continue;
        if (name.compare(name.size() - ext.size(), ext.size(), ext) != 0) continue;
        std::string stem = name.substr(prefix.size(), name.size() - prefix.size() - ext.size());
        if (stem == "base") continue;
        out.emplace_back(stem, it->path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

// "cpu" (a single CPU backend) or "cpu-<variant>".
bool is_cpu(const std::string & stem) { return stem == "cpu" || stem.rfind("cpu-", 0) == 0; }

bool has_cpu_backend(const fs::path & dir) {
    for (const auto & [stem, path] : backend_files(dir)) {
        if (is_cpu(stem)) return true;
    }
    return false;
}

// A library opened only to ask it something; closed again on scope exit.
class Library {
  public:
    explicit Library(const fs::path & p) {
#if defined(_WIN32)
        h_ = LoadLibraryW(p.wstring().c_str());
#else
        h_ = dlopen(p.u8string().c_str(), RTLD_NOW | RTLD_LOCAL);
#endif
    }
    ~Library() {
#if defined(_WIN32)
        if (h_) FreeLibrary(static_cast<HMODULE>(h_));
#else
        if (h_) dlclose(h_);
#endif
    }
    Library(const Library &) = delete;
    Library & operator=(const Library &) = delete;
    void * sym(const char * name) const {
        if (!h_) return nullptr;
#if defined(_WIN32)
        return reinterpret_cast<void *>(GetProcAddress(static_cast<HMODULE>(h_), name));
#else
        return dlsym(h_, name);
#endif
    }
    bool ok() const { return h_ != nullptr; }

  private:
    void * h_ = nullptr;
};

// A CPU variant's own score for the running processor: 0 = it cannot run here.
int variant_score(const fs::path & p) {
    Library lib(p);
    if (!lib.ok()) return -1;
    using score_fn = int (*)();
    auto fn = reinterpret_cast<score_fn>(lib.sym("ggml_backend_score"));
    return fn ? fn() : -1;
}

std::string variant_of(const std::string & stem) { return stem == "cpu" ? "cpu" : stem.substr(4); }

std::vector<std::string> cpu_variant_names(const fs::path & dir) {
    std::vector<std::string> names;
    for (const auto & [stem, path] : backend_files(dir)) {
        if (is_cpu(stem)) names.push_back(variant_of(stem));
    }
    return names;
}

std::string join(const std::vector<std::string> & v) {
    std::string s;
    for (const auto & x : v) s += (s.empty() ? "" : ", ") + x;
    return s;
}

std::string load_from(const fs::path & dir, const char * forced) {
    if (!forced || !*forced) {
        ggml_backend_load_all_from_path(dir.u8string().c_str());
    } else {
        // The named CPU variant, then every non-CPU backend (RPC, GPU) in the same folder.
        fs::path chosen;
        for (const auto & [stem, path] : backend_files(dir)) {
            if (is_cpu(stem) && variant_of(stem) == forced) chosen = path;
        }
        if (chosen.empty()) {
            return "VALUELENS_CPU_VARIANT=" + std::string(forced) + ": no such CPU variant in " + dir.u8string() +
                   " (available: " + join(cpu_variant_names(dir)) + ")";
        }
        if (variant_score(chosen) <= 0) {
            return "VALUELENS_CPU_VARIANT=" + std::string(forced) + ": this processor lacks an instruction set that variant needs";
        }
        if (!ggml_backend_load(chosen.u8string().c_str())) return with_log("cannot load " + chosen.u8string());
        for (const auto & [stem, path] : backend_files(dir)) {
            if (is_cpu(stem)) continue;
            ggml_backend_load(path.u8string().c_str());  // an unusable GPU backend (no driver) is simply absent
        }
    }
    if (!ggml_backend_reg_by_name("CPU")) {
        return "no CPU backend could be loaded from " + dir.u8string() + " (CPU variants there: " +
               (cpu_variant_names(dir).empty() ? std::string("none") : join(cpu_variant_names(dir))) + ")";
    }
    return "";
}

}  // namespace

std::string load_backends() {
    static std::once_flag once;
    std::call_once(once, [] {
        // A static build registers its backends itself. Decided at run time, not by GGML_BACKEND_DL: an addon
        // compiled by node-gyp against an installed portable llama.cpp does not see that definition.
        if (ggml_backend_reg_by_name("CPU")) return;
        const char * forced = std::getenv("VALUELENS_CPU_VARIANT");
        g_state.forced = forced ? forced : "";
        std::vector<fs::path> candidates;
        if (const char * env = std::getenv("VALUELENS_BACKEND_DIR"); env && *env) {
            candidates.emplace_back(fs::u8path(env));
        } else {
            const fs::path self = fs::u8path(file_of(reinterpret_cast<const void *>(&load_backends))).parent_path();
            candidates = {self, self / ".." / "bin"};
#ifdef VALUELENS_BACKEND_DIR_DEFAULT
            candidates.emplace_back(fs::u8path(VALUELENS_BACKEND_DIR_DEFAULT));
#endif
        }
        for (const auto & dir : candidates) {
            if (!has_cpu_backend(dir)) continue;
            g_state.dir = fs::weakly_canonical(dir).u8string();
            g_state.error = load_from(dir, forced);
            return;
        }
        std::string where;
        for (const auto & dir : candidates) where += (where.empty() ? "" : ", ") + dir.u8string();
        g_state.error = "no ggml CPU backend library (" + std::string(kPrefix) + "cpu-*" + kExt + ") found in " + where +
                        "; set VALUELENS_BACKEND_DIR to the folder that holds them";
    });
    return g_state.error;
}

Napi::Value BackendInfo(const Napi::CallbackInfo & info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("build", VALUELENS_BACKEND[0] ? VALUELENS_BACKEND : "cpu");
    o.Set("cpuBuild", VALUELENS_CPU_BUILD);
    o.Set("systemInfo", llama_print_system_info());
    o.Set("gpuOffload", llama_supports_gpu_offload());
    o.Set("mmap", llama_supports_mmap());
    o.Set("rpc", llama_supports_rpc());
    o.Set("maxSequences", (double) llama_max_parallel_sequences());
    o.Set("backendDir", g_state.dir.empty() ? env.Null() : Napi::String::New(env, g_state.dir));
    o.Set("loadError", g_state.error.empty() ? env.Null() : Napi::String::New(env, g_state.error));

    // The CPU variant in use: the library the CPU backend's registration lives in.
    ggml_backend_reg_t cpu = ggml_backend_reg_by_name("CPU");
    Napi::Value variant = env.Null();
    Napi::Object features = Napi::Object::New(env);
    if (cpu) {
        const std::string file = fs::u8path(file_of(reinterpret_cast<const void *>(cpu))).filename().u8string();
        const std::string prefix = std::string(kPrefix) + "cpu-";
        if (!g_state.dir.empty() && file.rfind(prefix, 0) == 0 && file.size() > prefix.size() + strlen(kExt)) {
            variant = Napi::String::New(env, file.substr(prefix.size(), file.size() - prefix.size() - strlen(kExt)));
        } else {
            variant = Napi::String::New(env, g_state.dir.empty() ? VALUELENS_CPU_BUILD : "cpu");
        }
        auto get = reinterpret_cast<ggml_backend_get_features_t>(ggml_backend_reg_get_proc_address(cpu, "ggml_backend_get_features"));
        if (get) {
            for (ggml_backend_feature * f = get(cpu); f && f->name; f++) features.Set(f->name, f->value);
        }
    }
    o.Set("cpuVariant", variant);
    o.Set("cpuFeatures", features);

    Napi::Array variants = Napi::Array::New(env);
    if (!g_state.dir.empty()) {
        uint32_t i = 0;
        for (const auto & [stem, path] : backend_files(fs::u8path(g_state.dir))) {
            if (stem.rfind("cpu-", 0) != 0) continue;
            Napi::Object v = Napi::Object::New(env);
            v.Set("name", variant_of(stem));
            v.Set("supported", variant_score(path) > 0);
            variants.Set(i++, v);
        }
    }
    o.Set("cpuVariants", variants);

    Napi::Array backends = Napi::Array::New(env);
    for (size_t i = 0; i < ggml_backend_reg_count(); i++) backends.Set((uint32_t) i, ggml_backend_reg_name(ggml_backend_reg_get(i)));
    o.Set("backends", backends);
    Napi::Array devices = Napi::Array::New(env);
    for (size_t i = 0; i < ggml_backend_dev_count(); i++) {
        ggml_backend_dev_t d = ggml_backend_dev_get(i);
        Napi::Object dv = Napi::Object::New(env);
        dv.Set("name", ggml_backend_dev_name(d));
        dv.Set("description", ggml_backend_dev_description(d));
        const auto t = ggml_backend_dev_type(d);
        dv.Set("type", t == GGML_BACKEND_DEVICE_TYPE_CPU ? "cpu" : t == GGML_BACKEND_DEVICE_TYPE_GPU ? "gpu" : t == GGML_BACKEND_DEVICE_TYPE_IGPU ? "igpu" : "accel");
        devices.Set((uint32_t) i, dv);
    }
    o.Set("devices", devices);
    return o;
}

}  // namespace vl
