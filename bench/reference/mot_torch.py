"""PyTorch reference of vlalab's Mixture-of-Transformers VLA, for timing only (bench/model-vs-torch.ts).

Same shapes and math as src/model (semantic expert over image patches + instruction tokens, action
expert over a state token + H noisy action tokens, per-layer Q/K/V of both experts concatenated into
one attention under the block mask, SwiGLU MLPs, RMSNorm, flow-matching loss, AdamW with global-norm
clipping; sampling: prefix keys/values computed once, then N Euler steps of the action expert).
It does not pad the suffix (that is a jax-js code-generation detail).

  python3 bench/reference/mot_torch.py --config-json CONFIG.json --threads 2 --batch 32 --reps 5

Prints one JSON line: {"train_ms": [...], "sample_ms": [...], "threads": n, "torch": version}.
"""
import argparse
import json
import math
import time

import torch
import torch.nn.functional as F


class Expert(torch.nn.Module):
    def __init__(self, c, width, mlp):
        super().__init__()
        inner = c["numHeads"] * c["headDim"]
        L = c["depth"]
        self.attn_norm = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(width)) for _ in range(L)])
        self.mlp_norm = torch.nn.ParameterList([torch.nn.Parameter(torch.ones(width)) for _ in range(L)])
        self.wq = torch.nn.ModuleList([torch.nn.Linear(width, inner, bias=False) for _ in range(L)])
        self.wk = torch.nn.ModuleList([torch.nn.Linear(width, inner, bias=False) for _ in range(L)])
        self.wv = torch.nn.ModuleList([torch.nn.Linear(width, inner, bias=False) for _ in range(L)])
        self.wo = torch.nn.ModuleList([torch.nn.Linear(inner, width, bias=False) for _ in range(L)])
        self.gate = torch.nn.ModuleList([torch.nn.Linear(width, mlp, bias=False) for _ in range(L)])
        self.up = torch.nn.ModuleList([torch.nn.Linear(width, mlp, bias=False) for _ in range(L)])
        self.down = torch.nn.ModuleList([torch.nn.Linear(mlp, width, bias=False) for _ in range(L)])


def attend(q, k, v, bias):
    """softmax(q k^T / sqrt(d) + bias) v (torch 1.13 has no scaled_dot_product_attention)."""
    return torch.softmax(q @ k.transpose(-1, -2) * (q.shape[-1] ** -0.5) + bias, -1) @ v


def rms(x, scale, eps):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * scale


class MoT(torch.nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        ds, da, A = c["semanticWidth"], c["actionWidth"], c["actionDim"]
        P = (c["imageSize"] // c["patchSize"]) ** 2
        self.patch_embed = torch.nn.Linear(c["patchSize"] ** 2 * 3, ds)
        self.view_embed = torch.nn.Parameter(torch.randn(c["maxViews"], ds) * 0.02)
        self.patch_pos = torch.nn.Parameter(torch.randn(P, ds) * 0.02)
        self.token_embed = torch.nn.Embedding(c["vocabSize"], ds)
        self.token_pos = torch.nn.Parameter(torch.randn(c["maxTokens"], ds) * 0.02)
        self.sem = Expert(c, ds, c["semanticMlpDim"])
        self.state_in = torch.nn.Linear(2 * A, da)
        self.action_in = torch.nn.Linear(A, da)
        self.time_in = torch.nn.Linear(2 * da, da)
        self.time_out = torch.nn.Linear(da, da)
        self.action_pos = torch.nn.Parameter(torch.randn(c["actionHorizon"], da) * 0.02)
        self.act = Expert(c, da, c["actionMlpDim"])
        self.final_norm = torch.nn.Parameter(torch.ones(da))
        self.action_out = torch.nn.Linear(da, A)

    def heads(self, x):
        b, n, _ = x.shape
        return x.view(b, n, self.c["numHeads"], self.c["headDim"]).transpose(1, 2)

    def embed_prefix(self, images, image_mask, tokens, token_mask):
        c = self.c
        b, v, s = images.shape[:3]
        p = c["patchSize"]
        g = s // p
        patches = images.view(b, v, g, p, g, p, 3).permute(0, 1, 2, 4, 3, 5, 6).reshape(b, v * g * g, p * p * 3)
        where = (self.view_embed[:, None, :] + self.patch_pos[None]).reshape(1, v * g * g, -1)
        x = torch.cat([self.patch_embed(patches) + where, self.token_embed(tokens) + self.token_pos], 1)
        valid = torch.cat([image_mask.repeat_interleave(g * g, 1), token_mask], 1)
        return x, valid

    def embed_suffix(self, state, state_mask, xt, tau):
        b, h, _ = xt.shape
        da = self.c["actionWidth"]
        st = self.state_in(torch.cat([state * state_mask, state_mask], 1))[:, None]
        half = da // 2
        period = 4e-3 * (4.0 / 4e-3) ** (torch.arange(half) / max(1, half - 1))
        arg = tau[:, None] * (2 * math.pi / period)[None]
        temb = torch.cat([arg.sin(), arg.cos()], 1)[:, None].expand(b, h, da)
        mixed = self.time_out(F.silu(self.time_in(torch.cat([self.action_in(xt), temb], 2))))
        return torch.cat([st, mixed + self.action_pos], 1)

    def block_bias(self, valid, ns, query_start):
        b, np_ = valid.shape
        n = np_ + ns
        i = torch.arange(query_start, n)[:, None]
        j = torch.arange(n)[None]
        ok = (j < np_) | ((i >= np_) & ((j == np_) | (i > np_)))
        key_valid = torch.cat([valid, torch.ones(b, ns)], 1)[:, None, None, :]
        return torch.where(ok[None, None] & (key_valid > 0), 0.0, -1e9)

    def layer_qkv(self, e, l, x):
        h = rms(x, e.attn_norm[l], self.c["normEps"])
        return self.heads(e.wq[l](h)), self.heads(e.wk[l](h)), self.heads(e.wv[l](h))

    def layer_finish(self, e, l, x, o):
        b, _, n, _ = o.shape
        y = x + e.wo[l](o.transpose(1, 2).reshape(b, n, -1))
        h = rms(y, e.mlp_norm[l], self.c["normEps"])
        return y + e.down[l](F.silu(e.gate[l](h)) * e.up[l](h))

    def head(self, xa):
        return self.action_out(rms(xa[:, 1:], self.final_norm, self.c["normEps"]))

    def velocity(self, pre, st, xt, tau):
        xs, valid = self.embed_prefix(*pre)
        xa = self.embed_suffix(*st, xt, tau)
        np_ = xs.shape[1]
        bias = self.block_bias(valid, xa.shape[1], 0)
        for l in range(self.c["depth"]):
            qs, ks, vs = self.layer_qkv(self.sem, l, xs)
            qa, ka, va = self.layer_qkv(self.act, l, xa)
            o = attend(torch.cat([qs, qa], 2), torch.cat([ks, ka], 2), torch.cat([vs, va], 2), bias)
            xs = self.layer_finish(self.sem, l, xs, o[:, :, :np_])
            xa = self.layer_finish(self.act, l, xa, o[:, :, np_:])
        return self.head(xa)

    def prefix_cache(self, pre):
        xs, valid = self.embed_prefix(*pre)
        bias = self.block_bias(valid, 0, 0)
        keys, values = [], []
        for l in range(self.c["depth"]):
            q, k, v = self.layer_qkv(self.sem, l, xs)
            keys.append(k)
            values.append(v)
            if l < self.c["depth"] - 1:
                xs = self.layer_finish(self.sem, l, xs, attend(q, k, v, bias))
        return keys, values, valid

    def velocity_cached(self, cache, st, xt, tau):
        keys, values, valid = cache
        xa = self.embed_suffix(*st, xt, tau)
        bias = self.block_bias(valid, xa.shape[1], valid.shape[1])
        for l in range(self.c["depth"]):
            qa, ka, va = self.layer_qkv(self.act, l, xa)
            o = attend(qa, torch.cat([keys[l], ka], 2), torch.cat([values[l], va], 2), bias)
            xa = self.layer_finish(self.act, l, xa, o)
        return self.head(xa)


def batch(c, b):
    s, v, L, A, H = c["imageSize"], c["maxViews"], c["maxTokens"], c["actionDim"], c["actionHorizon"]
    mask = torch.zeros(b, A)
    mask[:, :8] = 1
    pre = (torch.rand(b, v, s, s, 3) * 2 - 1, torch.ones(b, v), torch.randint(0, 256, (b, L)), torch.ones(b, L))
    st = (torch.randn(b, A) * 0.5, mask.clone())
    return pre, st, mask, torch.randn(b, H, A) * 0.5


def train_step(model, opt, c, data):
    pre, st, mask, x1 = data
    b = x1.shape[0]
    x0 = torch.randn_like(x1)
    tau = torch.rand(b)
    m = mask[:, None]
    t = tau[:, None, None]
    xt = (1 - t) * x0 * m + t * x1 * m
    v = model.velocity(pre, st, xt, tau)
    loss = ((v - (x1 - x0) * m) ** 2 * m).sum() / (m.sum() * c["actionHorizon"])
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return loss.item()


@torch.no_grad()
def sample(model, c, data, steps):
    pre, st, mask, x1 = data
    m = mask[:, None]
    x = torch.randn_like(x1) * m
    cache = model.prefix_cache(pre)
    for i in range(steps):
        tau = torch.full((x.shape[0],), i / steps)
        x = x + model.velocity_cached(cache, st, x, tau) * m / steps
    return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config-json", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--what", default="train,sample")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    c = json.load(open(a.config_json))
    c = c.get("config", c)
    model = MoT(c)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=1e-5)
    out = {"threads": a.threads, "torch": torch.__version__, "train_ms": [], "sample_ms": []}
    if "train" in a.what:
        data = batch(c, a.batch)
        for i in range(a.reps + 2):
            t0 = time.perf_counter()
            train_step(model, opt, c, data)
            if i >= 2:
                out["train_ms"].append((time.perf_counter() - t0) * 1000)
    if "sample" in a.what:
        data = batch(c, 1)
        for i in range(a.reps + 2):
            t0 = time.perf_counter()
            sample(model, c, data, c["sampleSteps"])
            if i >= 2:
                out["sample_ms"].append((time.perf_counter() - t0) * 1000)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
