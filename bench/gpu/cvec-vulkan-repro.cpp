// llama.cpp alone (no valuelens, no Node): set a control vector, decode, change or clear it, decode again, with
// every layer on a Vulkan device. On Mesa 22.3's lavapipe (Debian 12) with the pinned tree this aborts with glibc
// heap corruption or a segfault (e.g. ops "s2,d,x,d" or "d,s2,d"); with NGL=0, with a fresh context per change
// ("s2,d,n,d,n,s3,d"), under gdb (no ASLR), and with vendor/patches/23-cvec-no-reserve.patch (no scheduler
// re-reserve in llama_set_adapter_cvec: the cause) it does not. Without the patch valuelens swaps in a fresh context
// when steering changes on a GPU backend (native/session.cpp, Session::SetSteering).
//
// Build against a llama.cpp build tree B and source tree L (e.g. a VALUELENS_GPU=vulkan build):
//   g++ -O1 -g -std=c++17 cvec-vulkan-repro.cpp -IL/include -IL/ggml/include -o cvec-repro \
//     B/src/libllama.a B/ggml/src/libggml.a B/ggml/src/ggml-vulkan/libggml-vulkan.a B/ggml/src/libggml-cpu.a \
//     B/ggml/src/libggml-base.a -lvulkan -lpthread -ldl -fopenmp
// Run: GGML_VK_VISIBLE_DEVICES=0 ./cvec-repro model.gguf s2,d,x,d     (ops: sK set at resid_post:K >= 2, d decode,
//      x clear, n fresh context; NGL=0 keeps every layer on the CPU)
#include "llama.h"
#include <cstdio>
#include <cstring>
#include <vector>
#include <cmath>
#include <string>
#include <cstdlib>

static void decode(llama_context * ctx, const std::vector<llama_token> & toks) {
    llama_memory_clear(llama_get_memory(ctx), true);
    llama_batch b = llama_batch_init((int) toks.size(), 0, 1);
    for (size_t i = 0; i < toks.size(); i++) {
        b.token[i] = toks[i]; b.pos[i] = (llama_pos) i; b.n_seq_id[i] = 1; b.seq_id[i][0] = 0; b.logits[i] = i + 1 == toks.size();
    }
    b.n_tokens = (int) toks.size();
    if (llama_decode(ctx, b) != 0) { fprintf(stderr, "decode failed\n"); exit(1); }
    llama_get_logits_ith(ctx, -1);
    llama_batch_free(b);
}

int main(int argc, char ** argv) {
    const char * path = argv[1];
    std::string seq = argv[2];
    llama_backend_init();
    auto mp = llama_model_default_params();
    mp.n_gpu_layers = getenv("NGL") ? atoi(getenv("NGL")) : 999;
    llama_model * model = llama_model_load_from_file(path, mp);
    auto cp = llama_context_default_params();
    cp.n_ctx = 256; cp.n_batch = 64; cp.n_ubatch = 64; cp.n_seq_max = 1;
    cp.type_k = GGML_TYPE_F32; cp.type_v = GGML_TYPE_F32; cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    llama_context * ctx = llama_init_from_model(model, cp);
    const int n_embd = llama_model_n_embd(model), n_layer = llama_model_n_layer(model);
    std::vector<llama_token> toks = {1, 450, 4996, 17354, 1701, 29916};
    size_t i = 0;
    while (i < seq.size()) {
        size_t j = seq.find(',', i); if (j == std::string::npos) j = seq.size();
        std::string op = seq.substr(i, j - i); i = j + 1;
        if (op == "d") decode(ctx, toks);
        else if (op == "n") { llama_free(ctx); ctx = llama_init_from_model(model, cp); }
        else if (op == "x") llama_set_adapter_cvec(ctx, nullptr, 0, n_embd, -1, -1);
        else if (op[0] == 's') {
            int block = std::stoi(op.substr(1)) - 1;  // resid_post:k = block k-1; buffer entry j = block j+1
            if (block < 1 || block >= n_layer) { fprintf(stderr, "s%d: K must be 2..%d (llama.cpp has no control vector for block 0)\n", block + 1, n_layer); return 2; }
            std::vector<float> data((size_t) n_embd * (n_layer - 1), 0.0f);
            for (int e = 0; e < n_embd; e++) data[(size_t) (block - 1) * n_embd + e] = 2.0f * std::sin(e + 1.0f);
            if (llama_set_adapter_cvec(ctx, data.data(), data.size(), n_embd, block, block) != 0) { fprintf(stderr, "cvec failed\n"); return 1; }
        }
        fprintf(stderr, "op %s ok\n", op.c_str());
    }
    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    fprintf(stderr, "DONE\n");
    return 0;
}
