// Which ggml backends this addon runs on, and loading them. In a portable build (GGML_BACKEND_DL) the CPU
// backend and any GPU/RPC backend are separate libraries next to the addon, loaded once at module start; the
// best CPU variant for the running processor is chosen at that moment (or the one VALUELENS_CPU_VARIANT names).
#pragma once

#include <napi.h>

#include <string>

namespace vl {

// Loads the backends (once per process). Returns an empty string on success, else what went wrong.
std::string load_backends();

// backendInfo(): build switches, the loaded backends and devices, the CPU variant in use.
Napi::Value BackendInfo(const Napi::CallbackInfo & info);

}  // namespace vl
