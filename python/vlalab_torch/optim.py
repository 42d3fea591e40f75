"""AdamW, the cosine schedule and the two-stage curriculum of src/training (optimizer.ts, schedule.ts,
trainer.ts stageAt), so that a torch run follows the recipe `vlalab train` would.

AdamW with decoupled weight decay and global-norm clipping, one instance per expert (vlalab clips and
counts steps per expert: the semantic expert's step count does not advance while it is frozen):
  g <- g * min(1, max_norm / (||g||_2 + 1e-6))
  m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
  p <- p (1 - lr wd) - lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
"""
import math

import torch

# the project defaults (optimizer.ts ADAMW_DEFAULTS)
BETA1, BETA2, EPS = 0.9, 0.95, 1e-8


class AdamW:
    """AdamW over a list of (name, parameter); moments m, v keyed by the same names (for checkpoints)."""

    def __init__(self, named, weight_decay, max_grad_norm):
        self.named = list(named)
        self.wd = weight_decay
        self.max_norm = max_grad_norm if max_grad_norm > 0 else math.inf
        self.step_count = 0
        self.m = {n: torch.zeros_like(p) for n, p in self.named}
        self.v = {n: torch.zeros_like(p) for n, p in self.named}

    @torch.no_grad()
    def step(self, lr):
        """One update at learning rate lr; returns the pre-clipping global gradient norm (a float tensor)."""
        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for _, p in self.named]
        norm = torch.sqrt(sum((g.double().pow(2).sum() for g in grads), torch.zeros((), dtype=torch.float64, device=grads[0].device))).float()
        scale = torch.clamp(self.max_norm / (norm + 1e-6), max=1.0) if math.isfinite(self.max_norm) else torch.ones((), device=norm.device)
        self.step_count += 1
        t = self.step_count
        bc1, bc2 = 1 - BETA1 ** t, 1 - BETA2 ** t
        for (n, p), g in zip(self.named, grads):
            g = g * scale
            m, v = self.m[n], self.v[n]
            m.mul_(BETA1).add_(g, alpha=1 - BETA1)
            v.mul_(BETA2).add_(g * g, alpha=1 - BETA2)
            p.mul_(1 - lr * self.wd)
            p.sub_(lr * (m / bc1) / (torch.sqrt(v / bc2) + EPS))
        return norm


def cosine_lr(peak, total, warmup_ratio, step, min_lr=0.0):
    """peak (s + 1) / W during the W = round(ratio T) warmup steps, then min + (peak - min)(1 + cos(pi (s - W) / (T - W))) / 2."""
    warmup = round_half_up(warmup_ratio * total)
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return min_lr + (peak - min_lr) * (1 + math.cos(math.pi * progress)) / 2


def round_half_up(x):
    """JavaScript's Math.round (halves go up; Python's round goes to even)."""
    return math.floor(x + 0.5)


def stage_at(cfg, step):
    """(stage, lr, semantic frozen) of a step under a vlalab TrainConfig (trainer.ts stageAt)."""
    stage1 = math.floor(cfg["steps"] * cfg["stage1Fraction"]) if cfg["curriculum"] == "two-stage" else 0
    if step < stage1:
        return 1, cosine_lr(cfg["stage1Lr"], stage1, cfg["warmupRatio"], step), True
    return 2, cosine_lr(cfg["lr"], cfg["steps"] - stage1, cfg["warmupRatio"], step - stage1), cfg["freezeSemantic"]
