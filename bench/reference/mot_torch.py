"""PyTorch timing of vlalab's Mixture-of-Transformers VLA, for bench/model-vs-torch.ts.

The model, loss and optimizer are those of the supported PyTorch twin, python/vlalab_torch (same
parameter names and shapes as vlalab's checkpoints, held to vlalab's loss and gradients by
test/e2e/torch-parity.test.ts): a training step is the flow-matching loss, backward and vlalab's AdamW
with per-expert global-norm clipping; a chunk is the prefix keys/values once, then N Euler steps of the
action expert. The suffix is not padded (that is a jax-js code-generation detail).

  python3 bench/reference/mot_torch.py --config-json CONFIG.json --threads 2 --batch 32 --reps 5 [--sample-reps 50]

Prints one JSON line: {"train_ms": [...], "sample_ms": [...], "threads": n, "torch": version}.
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
from vlalab_torch.flow import flow_loss, sample_actions  # noqa: E402
from vlalab_torch.model import MoT, init_params  # noqa: E402
from vlalab_torch.optim import AdamW  # noqa: E402


def batch(c, b):
    s, v, L, A, H = c["imageSize"], c["maxViews"], c["maxTokens"], c["actionDim"], c["actionHorizon"]
    mask = torch.zeros(b, A)
    mask[:, :8] = 1
    return {
        "images": torch.rand(b, v, s, s, 3) * 2 - 1, "imageMask": torch.ones(b, v),
        "tokens": torch.randint(0, 256, (b, L)), "tokenMask": torch.ones(b, L),
        "state": torch.randn(b, A) * 0.5, "stateMask": mask.clone(), "actionMask": mask, "actions": torch.randn(b, H, A) * 0.5,
    }


def train_step(model, opts, data):
    x1 = data["actions"]
    loss = flow_loss(model, data, torch.randn_like(x1), torch.rand(x1.shape[0]))
    for p in model.parameters():
        p.grad = None
    loss.backward()
    for o in opts:
        o.step(1e-4)
    return loss.item()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config-json", required=True)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--sample-reps", type=int, default=None, help="timed chunks (default: --reps)")
    ap.add_argument("--what", default="train,sample")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    c = json.load(open(a.config_json))
    c = c.get("config", c)
    model = init_params(MoT(c), 0)
    named = list(model.named_parameters())
    opts = [AdamW([(n, p) for n, p in named if n.startswith(e)], 1e-5, 1.0) for e in ("semantic.", "action.")]
    out = {"threads": a.threads, "torch": torch.__version__, "train_ms": [], "sample_ms": []}
    if "train" in a.what:
        data = batch(c, a.batch)
        for i in range(a.reps + 2):
            t0 = time.perf_counter()
            train_step(model, opts, data)
            if i >= 2:
                out["train_ms"].append((time.perf_counter() - t0) * 1000)
    if "sample" in a.what:
        data = batch(c, 1)
        for i in range((a.sample_reps or a.reps) + 2):
            t0 = time.perf_counter()
            sample_actions(model, data, c["sampleSteps"], torch.randn_like(data["actions"]))
            if i >= 2:
                out["sample_ms"].append((time.perf_counter() - t0) * 1000)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
