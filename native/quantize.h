// quantize(input, output, {type, threads, ...}): llama.cpp's own model quantizer (llama_model_quantize), run on a
// worker thread. The TypeScript side writes to a temporary file and renames it.
#pragma once

#include <napi.h>

namespace vl {

Napi::Value Quantize(const Napi::CallbackInfo & info);

}  // namespace vl
