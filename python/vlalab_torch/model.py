"""The Mixture-of-Transformers VLA of src/model (mot.ts, layers.ts, params.ts) in PyTorch.

`named_parameters()` yields exactly vlalab's checkpoint names and shapes (`semantic.patchEmbed.w`
[p*p*3, D_s], `action.layers.0.mlp.wDown` [F, D_a], ...): weights are [in, out] and y = x w + b, so a
vlalab model.safetensors loads with `load_state_dict` as is. The math is the TS math: per-layer Q/K/V of
both experts concatenated along the sequence under the block mask (eq. 1), evaluated as prefix
keys/values + the action expert attending to them (exact: prefix queries never see the suffix), SwiGLU
MLPs, RMSNorm, the sinusoidal flow-time embedding. The suffix is not padded (jax-js's padding tokens
are masked keys whose outputs are dropped: the same function).

Axes: B batch, V views, S image side, P patches per view, L tokens, Np = V*P + L prefix length,
H action horizon, Ns = 1 + H suffix length, A = 60 unified dims, D_s / D_a widths, h heads, d head_dim.
"""
import math

import torch
import torch.nn.functional as F

# finite so that a fully masked row stays finite (layers.ts MASK_BIAS)
MASK_BIAS = -1e9
# shortest and longest period of the sinusoidal flow-time embedding (as in pi0; mot.ts)
TIME_PERIOD_MIN = 4e-3
TIME_PERIOD_MAX = 4.0


def _param(*shape):
    return torch.nn.Parameter(torch.zeros(*shape))


class Linear(torch.nn.Module):
    """y = x w + b, w [in, out], b [out] (vlalab's layout, not torch.nn.Linear's [out, in])."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.w = _param(n_in, n_out)
        self.b = _param(n_out)

    def forward(self, x):
        return x @ self.w + self.b


class Attn(torch.nn.Module):
    """Per-expert attention projections: q/k/v [D, h*d], o [h*d, D]."""

    def __init__(self, d, inner):
        super().__init__()
        self.wq, self.wk, self.wv, self.wo = _param(d, inner), _param(d, inner), _param(d, inner), _param(inner, d)


class Mlp(torch.nn.Module):
    """SwiGLU: (silu(x W_gate) * (x W_up)) W_down; gate/up [D, F], down [F, D]."""

    def __init__(self, d, f):
        super().__init__()
        self.wGate, self.wUp, self.wDown = _param(d, f), _param(d, f), _param(f, d)

    def forward(self, x):
        return (F.silu(x @ self.wGate) * (x @ self.wUp)) @ self.wDown


class Layer(torch.nn.Module):
    """One expert's share of one MoT layer: pre-norm scales [D], attention, MLP."""

    def __init__(self, d, f, inner):
        super().__init__()
        self.attnNorm = _param(d)
        self.attn = Attn(d, inner)
        self.mlpNorm = _param(d)
        self.mlp = Mlp(d, f)


class Semantic(torch.nn.Module):
    """The semantic (vision-language) expert: prefix embeddings and its layer stack."""

    def __init__(self, c):
        super().__init__()
        if c.get("stemChannels"):
            raise ValueError(f"model config {c.get('name')!r} has a convolutional image stem (stemChannels), which the PyTorch mirror does not implement yet; train it with `vlalab train` or choose a config without one")
        ds = c["semanticWidth"]
        self.patchEmbed = Linear(c["patchSize"] ** 2 * 3, ds)
        self.viewEmbed = _param(c["maxViews"], ds)
        self.patchPos = _param((c["imageSize"] // c["patchSize"]) ** 2, ds)
        self.tokenEmbed = _param(c["vocabSize"], ds)
        self.tokenPos = _param(c["maxTokens"], ds)
        self.layers = torch.nn.ModuleList(Layer(ds, c["semanticMlpDim"], c["numHeads"] * c["headDim"]) for _ in range(c["depth"]))


class Action(torch.nn.Module):
    """The action expert: state/action/time embeddings, its layer stack, the velocity head."""

    def __init__(self, c):
        super().__init__()
        da, a = c["actionWidth"], c["actionDim"]
        self.stateIn = Linear(2 * a, da)
        self.actionIn = Linear(a, da)
        self.timeMlpIn = Linear(2 * da, da)
        self.timeMlpOut = Linear(da, da)
        self.actionPos = _param(c["actionHorizon"], da)
        self.layers = torch.nn.ModuleList(Layer(da, c["actionMlpDim"], c["numHeads"] * c["headDim"]) for _ in range(c["depth"]))
        self.finalNorm = _param(da)
        self.actionOut = Linear(da, a)


def rms_norm(x, scale, eps):
    """x / sqrt(mean(x^2) + eps) * scale over the last axis."""
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * scale


def attention(q, k, v, bias):
    """softmax(q k^T / sqrt(d) + bias) v. q [B, h, Nq, d], k/v [B, h, Nk, d], bias [B, 1, Nq, Nk]."""
    return torch.softmax(q @ k.transpose(-1, -2) * (1 / math.sqrt(q.shape[-1])) + bias, -1) @ v


def time_frequencies(width):
    """2 pi / T_i for the `width / 2` periods T_i from 4e-3 to 4 (computed in float64, as the TS code, then float32)."""
    half = width // 2
    f = [2 * math.pi / (TIME_PERIOD_MIN * (TIME_PERIOD_MAX / TIME_PERIOD_MIN) ** (i / (half - 1) if half > 1 else 0)) for i in range(half)]
    return torch.tensor(f, dtype=torch.float32)


class MoT(torch.nn.Module):
    """The MoT VLA; `c` is a vlalab ModelConfig dict (a checkpoint's config.json)."""

    def __init__(self, c):
        super().__init__()
        self.c = dict(c)
        self.semantic = Semantic(c)
        self.action = Action(c)
        self.register_buffer("freq", time_frequencies(c["actionWidth"]), persistent=False)

    def heads(self, x):
        """[B, n, h*d] -> [B, h, n, d]."""
        b, n, _ = x.shape
        return x.view(b, n, self.c["numHeads"], self.c["headDim"]).transpose(1, 2)

    def embed_prefix(self, images, image_mask, tokens, token_mask):
        """images [B, V, S, S, 3] in [-1, 1], tokens [B, L] -> x [B, Np, D_s], valid [B, Np]."""
        p, s = self.semantic, self.c["patchSize"]
        b, v, side = images.shape[:3]
        g = side // s
        patches = images.reshape(b, v, g, s, g, s, 3).permute(0, 1, 2, 4, 3, 5, 6).reshape(b, v * g * g, s * s * 3)  # [B, V*P, p*p*3]
        where = (p.viewEmbed[:, None, :] + p.patchPos[None]).reshape(1, v * g * g, -1)  # [1, V*P, D_s]
        x = torch.cat([p.patchEmbed(patches) + where, p.tokenEmbed[tokens.long()] + p.tokenPos], 1)  # [B, Np, D_s]
        valid = torch.cat([image_mask.repeat_interleave(g * g, 1), token_mask], 1)  # [B, Np]
        return x, valid

    def embed_suffix(self, state, state_mask, xt, tau):
        """The state token and H action tokens mixed with the time embedding of tau [B]. -> [B, 1 + H, D_a]."""
        p = self.action
        b, h, _ = xt.shape
        st = p.stateIn(torch.cat([state * state_mask, state_mask], 1))[:, None]  # [B, 1, D_a]
        arg = tau[:, None] * self.freq[None]  # [B, D_a / 2]
        temb = torch.cat([arg.sin(), arg.cos()], 1)[:, None].expand(b, h, -1)  # [B, H, D_a]
        mixed = p.timeMlpOut(F.silu(p.timeMlpIn(torch.cat([p.actionIn(xt), temb], 2))))  # [B, H, D_a]
        return torch.cat([st, mixed + p.actionPos], 1)

    def block_bias(self, valid, ns, query_start):
        """0 where the block mask allows query i to see key j and the key is valid, MASK_BIAS elsewhere. -> [B, 1, Nq, N]."""
        b, np_ = valid.shape
        n = np_ + ns
        i = torch.arange(query_start, n, device=valid.device)[:, None]
        j = torch.arange(n, device=valid.device)[None]
        ok = (j < np_) | ((i >= np_) & ((j == np_) | (i > np_)))  # prefix bidirectional; state sees prefix + itself; actions all
        key_valid = torch.cat([valid, torch.ones(b, ns, device=valid.device, dtype=valid.dtype)], 1)[:, None, None, :]
        return torch.where(ok[None, None] & (key_valid > 0), 0.0, MASK_BIAS)

    def qkv(self, layer, x):
        h = rms_norm(x, layer.attnNorm, self.c["normEps"])
        return self.heads(h @ layer.attn.wq), self.heads(h @ layer.attn.wk), self.heads(h @ layer.attn.wv)

    def finish(self, layer, x, o):
        """x + o W_o, then + MLP(norm(x)). o [B, h, n, d]."""
        b, _, n, _ = o.shape
        y = x + o.transpose(1, 2).reshape(b, n, -1) @ layer.attn.wo
        return y + layer.mlp(rms_norm(y, layer.mlpNorm, self.c["normEps"]))

    def prefix_cache(self, images, image_mask, tokens, token_mask):
        """Per-layer prefix keys/values [B, h, Np, d] and the prefix validity [B, Np]."""
        xs, valid = self.embed_prefix(images, image_mask, tokens, token_mask)
        bias = self.block_bias(valid, 0, 0)
        keys, values = [], []
        for l, layer in enumerate(self.semantic.layers):
            q, k, v = self.qkv(layer, xs)
            keys.append(k)
            values.append(v)
            if l < self.c["depth"] - 1:  # the last layer's prefix output feeds nothing
                xs = self.finish(layer, xs, attention(q, k, v, bias))
        return keys, values, valid

    def velocity_cached(self, cache, state, state_mask, xt, tau):
        """The flow velocity v(xt, tau | obs) from a prefix cache: only the action expert runs. -> [B, H, A]."""
        keys, values, valid = cache
        xa = self.embed_suffix(state, state_mask, xt, tau)
        bias = self.block_bias(valid, xa.shape[1], valid.shape[1])  # [B, 1, Ns, N]
        for l, layer in enumerate(self.action.layers):
            qa, ka, va = self.qkv(layer, xa)
            o = attention(qa, torch.cat([keys[l], ka], 2), torch.cat([values[l], va], 2), bias)
            xa = self.finish(layer, xa, o)
        return self.action.actionOut(rms_norm(xa[:, 1:], self.action.finalNorm, self.c["normEps"]))

    def forward(self, batch, x0, tau, freeze_semantic=False):
        """(masked squared-error sum, mask sum * H) of the flow-matching loss: see flow.loss_terms."""
        from .flow import loss_terms

        return loss_terms(self, batch, x0, tau, freeze_semantic)


EMBEDDINGS = {"viewEmbed", "patchPos", "tokenEmbed", "tokenPos", "actionPos"}


@torch.no_grad()
def init_params(model, seed):
    """vlalab's initialization rules (params.ts initLeaf): norms 1, biases 0, embeddings N(0, 0.02^2),
    weights N(0, 1/fan_in), residual outputs (wo, wDown) divided by sqrt(2 depth). The draws come from
    torch's generator, not vlalab's Rng: start from a vlalab checkpoint (--init-from) for the same numbers."""
    g = torch.Generator().manual_seed(seed)
    depth = model.c["depth"]
    for name, p in model.named_parameters():
        leaf = name.rsplit(".", 1)[-1]
        if leaf in ("attnNorm", "mlpNorm", "finalNorm"):
            p.fill_(1)
        elif leaf == "b":
            p.zero_()
        else:
            std = 0.02 if leaf in EMBEDDINGS else 1 / math.sqrt(p.shape[0])
            if leaf in ("wo", "wDown"):
                std /= math.sqrt(2 * depth)
            p.copy_(torch.randn(p.shape, generator=g) * std)
    return model


def load_weights(model, tensors, file):
    """Copies named tensors (a vlalab model.safetensors) into `model`, naming any missing, extra or misshapen one."""
    own = dict(model.named_parameters())
    missing = [n for n in own if n not in tensors]
    extra = [n for n in tensors if n not in own]
    if missing or extra:
        raise ValueError(f"{file}: missing {missing[:3]} / unexpected {extra[:3]} parameter(s) for config \"{model.c['name']}\"; it was saved for another config")
    with torch.no_grad():
        for n, p in own.items():
            if tuple(tensors[n].shape) != tuple(p.shape):
                raise ValueError(f"{file}: {n} has shape {list(tensors[n].shape)} but config \"{model.c['name']}\" expects {list(p.shape)}")
            p.copy_(tensors[n].to(p.dtype))
    return model
