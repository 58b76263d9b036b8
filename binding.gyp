{
  "targets": [
    {
      "target_name": "valuelens",
      "sources": ["native/addon.cpp", "native/backends.cpp", "native/common.cpp", "native/hooks.cpp", "native/model.cpp", "native/options.cpp", "native/quantize.cpp", "native/session.cpp"],
      "include_dirs": [
        "<!(node -p \"require('path').resolve(require('node-addon-api').include_dir)\")",
        "<!@(node scripts/llama-flags.mjs include)"
      ],
      "libraries": ["<!@(node scripts/llama-flags.mjs libs)"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS", "VALUELENS_BACKEND=\"installed\"", "<!@(node scripts/llama-flags.mjs defines)"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-O3"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "MACOSX_DEPLOYMENT_TARGET": "11.0"
      },
      "msvs_settings": { "VCCLCompilerTool": { "ExceptionHandling": 1 } }
    }
  ]
}
