#include "options.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <thread>

#if defined(__linux__)
#  include <sched.h>
#endif

namespace vl {

int64_t get_int(Napi::Env env, Napi::Value v, const std::string & what, int64_t lo, int64_t hi) {
    if (!v.IsNumber()) throw Napi::TypeError::New(env, what + " must be a number");
    const double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || std::floor(d) != d || d < (double) lo || d > (double) hi) {
        throw Napi::RangeError::New(env, what + " must be an integer in " + std::to_string(lo) + ".." + std::to_string(hi) +
                                             " (got " + v.ToString().Utf8Value() + ")");
    }
    return (int64_t) d;
}

int64_t get_int_opt(Napi::Object o, const char * key, int64_t dflt, int64_t lo, int64_t hi, const std::string & prefix) {
    if (!o.Has(key) || o.Get(key).IsUndefined()) return dflt;
    return get_int(o.Env(), o.Get(key), prefix + key, lo, hi);
}

double get_finite(Napi::Env env, Napi::Value v, const std::string & what, double lo, double hi) {
    if (!v.IsNumber()) throw Napi::TypeError::New(env, what + " must be a number");
    const double d = v.As<Napi::Number>().DoubleValue();
    if (!std::isfinite(d) || d < lo || d > hi) {
        throw Napi::RangeError::New(env, what + " must be a finite number in " + std::to_string(lo) + ".." + std::to_string(hi) +
                                             " (got " + v.ToString().Utf8Value() + ")");
    }
    return d;
}

double get_finite_opt(Napi::Object o, const char * key, double dflt, double lo, double hi, const std::string & prefix) {
    if (!o.Has(key) || o.Get(key).IsUndefined()) return dflt;
    return get_finite(o.Env(), o.Get(key), prefix + key, lo, hi);
}

bool get_bool_opt(Napi::Object o, const char * key, bool dflt, const std::string & prefix) {
    if (!o.Has(key) || o.Get(key).IsUndefined()) return dflt;
    Napi::Value v = o.Get(key);
    if (!v.IsBoolean()) throw Napi::TypeError::New(o.Env(), prefix + key + " must be a boolean");
    return v.As<Napi::Boolean>().Value();
}

std::vector<llama_token> int32_vec(Napi::Env env, Napi::Value v, const std::string & what) {
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
        throw Napi::TypeError::New(env, what + " must be an Int32Array of token ids");
    }
    Napi::Int32Array a = v.As<Napi::Int32Array>();
    return std::vector<llama_token>(a.Data(), a.Data() + a.ElementLength());
}

namespace {

// CPUs granted by a cgroup quota, or 0 when there is none (or it cannot be read).
int cgroup_quota_cpus() {
    std::ifstream v2("/sys/fs/cgroup/cpu.max");
    if (v2) {
        std::string quota;
        long long period = 0;
        if (v2 >> quota >> period && quota != "max" && period > 0) {
            const long long q = std::atoll(quota.c_str());
            if (q > 0) return (int) std::max<long long>(1, (q + period - 1) / period);
        }
        return 0;
    }
    std::ifstream q1("/sys/fs/cgroup/cpu/cpu.cfs_quota_us"), p1("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
    long long q = -1, p = 0;
    if (q1 >> q && p1 >> p && q > 0 && p > 0) return (int) std::max<long long>(1, (q + p - 1) / p);
    return 0;
}

}  // namespace

int available_cpus() {
    int n = (int) std::thread::hardware_concurrency();
#if defined(__linux__)
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(set), &set) == 0) {
        const int c = CPU_COUNT(&set);
        if (c > 0) n = n > 0 ? std::min(n, c) : c;
    }
#endif
    const int quota = cgroup_quota_cpus();
    if (quota > 0) n = n > 0 ? std::min(n, quota) : quota;
    return std::max(1, n);
}

int32_t clamp_threads(int64_t requested) {
    const int cpus = available_cpus();
    if (requested <= 0) return cpus;
    return (int32_t) std::min<int64_t>(requested, cpus);
}

}  // namespace vl
