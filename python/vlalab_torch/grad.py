"""One flow-matching loss and its gradients, or optimizer steps, for the parity tests against vlalab
(test/e2e/torch-parity.test.ts).

  python3 -m vlalab_torch.grad IN.safetensors OUT.safetensors

IN holds the parameters by vlalab name, the batch as `batch.<field>`, the noise `x0` [B, H, A] and the
flow times `tau` [B], and the model config as JSON in the metadata key "config"; OUT gets `loss` [1]
and every parameter's gradient under its name (float32; zeros for the last semantic layer's
attention output and MLP, which feed nothing, as in vlalab).

With metadata "optimizer" ({"weightDecay", "clipNorm", "lrs": [...], "train": TrainConfig}), IN holds
parameters and per-step gradients `grad<i>.<name>` instead: OUT gets the parameters after one AdamW step
per entry of lrs (one optimizer per expert, as vlalab), and `lr` [steps]: stage_at's learning rate of
every step of the TrainConfig.
"""
import json
import sys

import torch

from . import safetensors
from .flow import flow_loss
from .model import MoT, load_weights
from .optim import AdamW, stage_at


def optimizer_check(tensors, meta, out_file):
    o = json.loads(meta["optimizer"])
    params = {n: t.clone() for n, t in tensors.items() if not n.startswith("grad")}
    named = list(params.items())
    opts = [AdamW([(n, p) for n, p in named if n.startswith(e)], o["weightDecay"], o["clipNorm"]) for e in ("semantic.", "action.")]
    for i, lr in enumerate(o["lrs"]):
        for n, p in named:
            p.grad = tensors[f"grad{i}.{n}"]
        for opt in opts:
            opt.step(lr)
    lrs = torch.tensor([stage_at(o["train"], s)[1] for s in range(o["train"]["steps"])], dtype=torch.float64).float()
    safetensors.save(out_file, [("lr", lrs)] + named)


def main(argv):
    if len(argv) != 2:
        raise SystemExit("usage: python3 -m vlalab_torch.grad IN.safetensors OUT.safetensors")
    tensors, meta = safetensors.load(argv[0])
    if "optimizer" in meta:
        return optimizer_check(tensors, meta, argv[1])
    model = load_weights(MoT(json.loads(meta["config"])), {k: v for k, v in tensors.items() if not k.startswith("batch.") and k not in ("x0", "tau")}, argv[0])
    batch = {k[len("batch."):]: v for k, v in tensors.items() if k.startswith("batch.")}
    loss = flow_loss(model, batch, tensors["x0"], tensors["tau"])
    loss.backward()
    out = [("loss", loss.detach().reshape(1))] + [(n, p.grad if p.grad is not None else torch.zeros_like(p)) for n, p in model.named_parameters()]
    safetensors.save(argv[1], out)


if __name__ == "__main__":
    torch.set_num_threads(1)
    main(sys.argv[1:])
