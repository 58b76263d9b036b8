"""Second half of the transformers parity check (see bench/gpu/cuda.sh).

Loads the GGUF that hf-parity-capture.mjs wrote into transformers' LlamaForCausalLM (the reverse of
llama.cpp's convert_hf_to_gguf.py: that script permutes the Q/K rows for llama.cpp's RoPE layout, so we undo
it) and compares output_hidden_states[k] with valuelens' layer k at every token. The reverse direction needs
no tokenizer conversion (convert_hf_to_gguf.py refuses a tokenizer whose pre-tokenizer it does not know, and
no tokenizer files can be fetched here); the layer numbering and the final norm on the top layer are what
is checked. Prints the worst relative error per layer and exits 1 above the tolerance.
"""
import json
import os
import sys

import numpy as np
import torch

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "vendor", "llama.cpp", "gguf-py"))
from gguf import GGUFReader  # noqa: E402
from transformers import LlamaConfig, LlamaForCausalLM  # noqa: E402

TOL = 1e-3  # max |valuelens − transformers| / max |transformers| per token vector (f32 on both sides)


def field(reader, key):
    f = reader.fields[key]
    v = f.parts[f.data[0]]
    return v.tobytes().decode() if f.types[0].name == "STRING" else v[0].item()


def unpermute(w, n_head):
    # convert_hf_to_gguf: w.reshape(n_head, 2, d // n_head // 2, *rest).swapaxes(1, 2).reshape(w.shape)
    d = w.shape[0]
    return w.reshape(n_head, d // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def main(out_dir):
    cap = json.load(open(os.path.join(out_dir, "hf-capture.json")))
    r = GGUFReader(cap["model"])
    a = "llama"
    n_embd, n_layer = field(r, f"{a}.embedding_length"), field(r, f"{a}.block_count")
    n_head, n_kv = field(r, f"{a}.attention.head_count"), field(r, f"{a}.attention.head_count_kv")
    t = {x.name: np.array(x.data, dtype=np.float32) for x in r.tensors}
    vocab = t["token_embd.weight"].shape[0]
    cfg = LlamaConfig(
        vocab_size=vocab, hidden_size=n_embd, intermediate_size=field(r, f"{a}.feed_forward_length"),
        num_hidden_layers=n_layer, num_attention_heads=n_head, num_key_value_heads=n_kv,
        rms_norm_eps=field(r, f"{a}.attention.layer_norm_rms_epsilon"), rope_theta=field(r, f"{a}.rope.freq_base"),
        max_position_embeddings=field(r, f"{a}.context_length"), tie_word_embeddings=True, torch_dtype=torch.float32,
    )
    model = LlamaForCausalLM(cfg).eval()
    sd = {"model.embed_tokens.weight": t["token_embd.weight"], "model.norm.weight": t["output_norm.weight"],
          "lm_head.weight": t.get("output.weight", t["token_embd.weight"])}
    for i in range(n_layer):
        b, p = f"blk.{i}.", f"model.layers.{i}."
        sd[p + "self_attn.q_proj.weight"] = unpermute(t[b + "attn_q.weight"], n_head)
        sd[p + "self_attn.k_proj.weight"] = unpermute(t[b + "attn_k.weight"], n_kv)
        sd[p + "self_attn.v_proj.weight"] = t[b + "attn_v.weight"]
        sd[p + "self_attn.o_proj.weight"] = t[b + "attn_output.weight"]
        sd[p + "mlp.gate_proj.weight"] = t[b + "ffn_gate.weight"]
        sd[p + "mlp.up_proj.weight"] = t[b + "ffn_up.weight"]
        sd[p + "mlp.down_proj.weight"] = t[b + "ffn_down.weight"]
        sd[p + "input_layernorm.weight"] = t[b + "attn_norm.weight"]
        sd[p + "post_attention_layernorm.weight"] = t[b + "ffn_norm.weight"]
    missing, unexpected = model.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()}, strict=False)
    missing = [m for m in missing if "rotary" not in m]
    if missing or unexpected:
        raise SystemExit(f"weights do not map: missing {missing}, unexpected {unexpected}")
    worst = [0.0] * (n_layer + 1)
    with torch.no_grad():
        for text in cap["texts"]:
            hs = model(torch.tensor([text["tokens"]]), output_hidden_states=True).hidden_states
            for k in range(1, n_layer + 1):
                ref = hs[k][0].numpy()
                got = np.array(text["layers"][str(k)], dtype=np.float32)
                err = np.abs(got - ref).max(axis=1) / np.maximum(np.abs(ref).max(axis=1), 1e-12)
                worst[k] = max(worst[k], float(err.max()))
    print("transformers parity, worst relative error per layer: " + ", ".join(f"{k}: {worst[k]:.2e}" for k in range(1, n_layer + 1)))
    if max(worst) > TOL:
        raise SystemExit(f"FAIL: above {TOL}")
    print(f"OK: every layer within {TOL} (layer {n_layer} = after the final norm, as hidden_states[{n_layer}])")


if __name__ == "__main__":
    main(sys.argv[1])
