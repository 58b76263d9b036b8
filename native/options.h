// Argument checks at the native boundary (the TypeScript layer checks too, but the addon must not
// depend on it: a NaN block must not steer block 0) and the CPU budget for thread counts.
#pragma once

#include "common.h"

namespace vl {

// An integer-valued Number in lo..hi; anything else (NaN, 2.7, a string) is a RangeError/TypeError naming `what`.
int64_t get_int(Napi::Env env, Napi::Value v, const std::string & what, int64_t lo, int64_t hi);
// The same for an optional object key: dflt when absent or undefined.
int64_t get_int_opt(Napi::Object o, const char * key, int64_t dflt, int64_t lo, int64_t hi, const std::string & prefix = "");
// A finite Number in lo..hi.
double get_finite(Napi::Env env, Napi::Value v, const std::string & what, double lo, double hi);
double get_finite_opt(Napi::Object o, const char * key, double dflt, double lo, double hi, const std::string & prefix);
// A boolean option: dflt when absent, a TypeError for a non-boolean.
bool get_bool_opt(Napi::Object o, const char * key, bool dflt, const std::string & prefix = "");
std::vector<llama_token> int32_vec(Napi::Env env, Napi::Value v, const std::string & what);

// CPUs this process may use: the affinity mask, further limited by a cgroup CPU quota (v2 cpu.max
// or v1 cfs_quota_us / cfs_period_us), at least 1.
int available_cpus();
// Threads for a context: `requested` (0 = default) clamped to available_cpus(). More threads than
// CPUs only adds contention, and very large counts have aborted the process inside libgomp.
int32_t clamp_threads(int64_t requested);

}  // namespace vl
