#!/usr/bin/python3
"""Export a GPT-2 folder written by Peft.MLNet (config.json + model.safetensors) to ONNX for the ORT comparison.

Usage: /usr/bin/python3 bench/onnx/export_gpt2.py FOLDER [--opset 17]

Writes FOLDER/gpt2.onnx (fp32) and FOLDER/gpt2_int8.onnx (every weight MatMul int8, LM head included), and
gpt2_last.onnx / gpt2_last_int8.onnx, the same graphs scoring only each row's last position (logits [B, 1, V]: what
generation needs from a prompt, as Hugging Face's logits_to_keep=1). One graph serves prefill and decode:
  inputs   input_ids [B, T] int64, position_ids [B, T] int64, past_key_i / past_value_i [B, H, P, hd] fp32 (P may be 0)
  outputs  logits [B, T, V] fp32, present_key_i / present_value_i [B, H, P+T, hd] fp32
The torch module follows Hugging Face's GPT-2 (Conv1D weights [in, out], tied LM head, gelu_new, layer norm eps from
the config) and takes its weights from the safetensors file as stored, so ORT and Peft.MLNet run the same numbers.
Needs Debian's python3-torch and python3-onnx only (no PyPI: safetensors is parsed by hand, the int8 graph is built
with onnx.helper as onnxruntime's quantize_dynamic would build it). Run by hand; CI never runs it.
"""
import argparse, json, math, os, struct
import numpy as np
import torch
import torch.nn as nn
import onnx
from onnx import helper, numpy_helper, TensorProto


def read_safetensors(path):
    """name -> float32 numpy array; the format is an 8-byte header length, a JSON header, then raw little-endian data."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    dtypes = {"F32": np.float32, "F16": np.float16}
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        if info["dtype"] not in ("F32", "F16"):
            raise SystemExit(f"{name}: dtype {info['dtype']} not supported here (save the model float32)")
        out[name] = np.frombuffer(data[start:end], dtype=dtypes[info["dtype"]]).reshape(info["shape"]).astype(np.float32)
    return out


class Block(nn.Module):
    """One GPT-2 block: pre-LN attention and MLP with Conv1D-style weights (y = x @ W + b, W [in, out])."""

    def __init__(self, w, i, d, heads, eps):
        super().__init__()
        p = f"transformer.h.{i}."
        t = lambda k: nn.Parameter(torch.from_numpy(w[p + k].copy()), requires_grad=False)
        self.ln1_w, self.ln1_b, self.ln2_w, self.ln2_b = t("ln_1.weight"), t("ln_1.bias"), t("ln_2.weight"), t("ln_2.bias")
        self.attn_w, self.attn_b = t("attn.c_attn.weight"), t("attn.c_attn.bias")
        self.proj_w, self.proj_b = t("attn.c_proj.weight"), t("attn.c_proj.bias")
        self.fc_w, self.fc_b = t("mlp.c_fc.weight"), t("mlp.c_fc.bias")
        self.out_w, self.out_b = t("mlp.c_proj.weight"), t("mlp.c_proj.bias")
        self.d, self.H, self.hd, self.eps = d, heads, d // heads, eps

    def forward(self, x, past_k, past_v, allowed):
        B, T, d = x.shape[0], x.shape[1], self.d  # d stays a constant: layer_norm needs a static shape
        h = nn.functional.layer_norm(x, (d,), self.ln1_w, self.ln1_b, self.eps)
        q, k, v = (torch.matmul(h, self.attn_w) + self.attn_b).split(d, dim=2)
        q = q.reshape(B, T, self.H, self.hd).transpose(1, 2)
        k = torch.cat([past_k, k.reshape(B, T, self.H, self.hd).transpose(1, 2)], dim=2)  # [B, H, P+T, hd]
        v = torch.cat([past_v, v.reshape(B, T, self.H, self.hd).transpose(1, 2)], dim=2)
        att = torch.matmul(q, k.transpose(-2, -1)) * (1.0 / math.sqrt(self.hd))  # [B, H, T, P+T]
        # allowed [B, 1, T, P+T]: key position <= query position (HF's causal mask; no padding in the bench).
        att = torch.softmax(torch.where(allowed, att, torch.tensor(float("-inf"))), dim=-1)
        y = torch.matmul(att, v).transpose(1, 2).reshape(B, T, d)
        x = x + torch.matmul(y, self.proj_w) + self.proj_b
        h = nn.functional.layer_norm(x, (d,), self.ln2_w, self.ln2_b, self.eps)
        h = torch.matmul(h, self.fc_w) + self.fc_b
        # gelu_new, written out: torch 1.13's exporter has no Gelu op at opset 17 and this is the exact formula.
        h = 0.5 * h * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (h + 0.044715 * torch.pow(h, 3.0))))
        x = x + torch.matmul(h, self.out_w) + self.out_b
        return x, k, v


class Gpt2(nn.Module):
    def __init__(self, w, cfg, last_only=False):
        super().__init__()
        self.last_only = last_only
        d, L, H = cfg["n_embd"], cfg["n_layer"], cfg["n_head"]
        eps = cfg.get("layer_norm_epsilon", 1e-5)
        self.wte = nn.Parameter(torch.from_numpy(w["transformer.wte.weight"].copy()), requires_grad=False)
        self.wpe = nn.Parameter(torch.from_numpy(w["transformer.wpe.weight"].copy()), requires_grad=False)
        # The head is tied to wte unless the checkpoint stores its own; a separate [d, V] copy becomes the head MatMul's
        # initializer (the int8 graph quantizes that copy and keeps wte float for the lookups, as ours does).
        head = w.get("lm_head.weight", w["transformer.wte.weight"])
        self.head_t = nn.Parameter(torch.from_numpy(head.T.copy()), requires_grad=False)
        self.blocks = nn.ModuleList([Block(w, i, d, H, eps) for i in range(L)])
        self.lnf_w = nn.Parameter(torch.from_numpy(w["transformer.ln_f.weight"].copy()), requires_grad=False)
        self.lnf_b = nn.Parameter(torch.from_numpy(w["transformer.ln_f.bias"].copy()), requires_grad=False)
        self.d, self.L, self.eps = d, L, eps

    def forward(self, input_ids, position_ids, *past):
        x = self.wte[input_ids] + self.wpe[position_ids]
        S = past[0].shape[2] + input_ids.shape[1]
        keys = torch.arange(S, dtype=torch.int64)
        allowed = (keys.reshape(1, 1, 1, -1) <= position_ids.unsqueeze(1).unsqueeze(-1))  # [B, 1, T, S]
        presents = []
        for i, blk in enumerate(self.blocks):
            x, k, v = blk(x, past[2 * i], past[2 * i + 1], allowed)
            presents += [k, v]
        if self.last_only:
            x = x[:, -1:, :]  # the final norm and the head on the last position only
        x = nn.functional.layer_norm(x, (self.d,), self.lnf_w, self.lnf_b, self.eps)
        return (torch.matmul(x, self.head_t),) + tuple(presents)


def export(model, cfg, path, opset):
    L, H, hd = cfg["n_layer"], cfg["n_head"], cfg["n_embd"] // cfg["n_head"]
    B, T, P = 2, 3, 4  # tracing sizes; all three are dynamic axes in the graph
    ids = torch.randint(0, cfg["vocab_size"], (B, T))
    pos = torch.arange(P, P + T).unsqueeze(0).repeat(B, 1)
    past = [torch.randn(B, H, P, hd) for _ in range(2 * L)]
    names_past = [f"past_{kv}_{i}" for i in range(L) for kv in ("key", "value")]
    names_present = [f"present_{kv}_{i}" for i in range(L) for kv in ("key", "value")]
    axes = {"input_ids": {0: "batch", 1: "seq"}, "position_ids": {0: "batch", 1: "seq"},
            "logits": {0: "batch"} if model.last_only else {0: "batch", 1: "seq"}}
    axes.update({n: {0: "batch", 2: "past"} for n in names_past})
    axes.update({n: {0: "batch", 2: "total"} for n in names_present})
    torch.onnx.export(model, (ids, pos, *past), path, opset_version=opset, do_constant_folding=True,
                      input_names=["input_ids", "position_ids"] + names_past, output_names=["logits"] + names_present,
                      dynamic_axes=axes)


def quantize_int8(src, dst):
    """Every MatMul whose B is a 2-D float initializer -> ORT's dynamic int8 form (what quantize_dynamic emits with
    per_channel=True, weight_type=QInt8): DynamicQuantizeLinear(x) -> MatMulInteger(xq, Wq, x_zp, 0) -> Cast -> Mul(x_scale *
    w_scale[col]). Weights symmetric per output column (per row of the [out, in] weight): scale = max|w| / 127, zero point 0."""
    m = onnx.load(src)
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    nodes, dropped, count = [], set(), 0
    for n in g.node:
        w = inits.get(n.input[1]) if n.op_type == "MatMul" else None
        if w is None or len(w.dims) != 2:
            nodes.append(n)
            continue
        W = numpy_helper.to_array(w)  # [K, N]
        scale = np.maximum(np.abs(W).max(axis=0), 1e-12) / 127.0  # per column N
        Wq = np.clip(np.rint(W / scale), -127, 127).astype(np.int8)
        b = n.input[1]
        q = f"{b}_q"
        g.initializer.extend([numpy_helper.from_array(Wq, q + "_w"), numpy_helper.from_array(scale.astype(np.float32), q + "_scale"),
                              numpy_helper.from_array(np.zeros(W.shape[1], np.int8), q + "_zp")])
        dropped.add(b)
        x = n.input[0]
        nodes += [
            helper.make_node("DynamicQuantizeLinear", [x], [q + "_xq", q + "_xs", q + "_xzp"], name=q + "_dql"),
            helper.make_node("MatMulInteger", [q + "_xq", q + "_w", q + "_xzp", q + "_zp"], [q + "_i32"], name=q + "_mmi"),
            helper.make_node("Cast", [q + "_i32"], [q + "_f"], to=TensorProto.FLOAT, name=q + "_cast"),
            helper.make_node("Mul", [q + "_xs", q + "_scale"], [q + "_s"], name=q + "_smul"),
            helper.make_node("Mul", [q + "_f", q + "_s"], [n.output[0]], name=q + "_mul"),
        ]
        count += 1
    del g.node[:]
    g.node.extend(nodes)
    kept = [t for t in g.initializer if t.name not in dropped]
    del g.initializer[:]
    g.initializer.extend(kept)
    onnx.save(m, dst)
    return count


def check_cache(model, cfg):
    """Torch sanity check: a prompt in one pass equals prefill + one-token steps through the cache (same graph ORT runs)."""
    L, H, hd = cfg["n_layer"], cfg["n_head"], cfg["n_embd"] // cfg["n_head"]
    ids = torch.randint(0, cfg["vocab_size"], (2, 6))
    empty = [torch.zeros(2, H, 0, hd) for _ in range(2 * L)]
    full = model(ids, torch.arange(6).repeat(2, 1), *empty)[0]
    out = model(ids[:, :4], torch.arange(4).repeat(2, 1), *empty)
    past, step = list(out[1:]), [out[0]]
    for t in (4, 5):
        out = model(ids[:, t:t + 1], torch.full((2, 1), t), *past)
        past, step = list(out[1:]), step + [out[0]]
    diff = (full - torch.cat(step, 1)).abs().max().item()
    print(f"torch cache check: max |full - cached| = {diff:.3g}")
    if diff > 1e-3:
        raise SystemExit("cached and uncached logits differ")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("--opset", type=int, default=17)
    a = ap.parse_args()
    torch.manual_seed(0)
    cfg = json.load(open(os.path.join(a.folder, "config.json")))
    if cfg.get("model_type") != "gpt2":
        raise SystemExit("expects a gpt2 config.json")
    w = read_safetensors(os.path.join(a.folder, "model.safetensors"))
    model = Gpt2(w, cfg).eval()
    with torch.inference_mode():
        check_cache(model, cfg)
    for last_only, name in ((False, "gpt2"), (True, "gpt2_last")):
        model.last_only = last_only
        fp32 = os.path.join(a.folder, name + ".onnx")
        with torch.no_grad():
            export(model, cfg, fp32, a.opset)
        print(f"wrote {fp32}")
        n = quantize_int8(fp32, os.path.join(a.folder, name + "_int8.onnx"))
        print(f"wrote {os.path.join(a.folder, name + '_int8.onnx')} ({n} MatMuls int8)")


if __name__ == "__main__":
    main()
