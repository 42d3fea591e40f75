"""One flow-matching loss and its gradients, for the parity test against vlalab (test/e2e/torch-parity.test.ts).

  python3 -m vlalab_torch.grad IN.safetensors OUT.safetensors

IN holds the parameters by vlalab name, the batch as `batch.<field>`, the noise `x0` [B, H, A] and the
flow times `tau` [B], and the model config as JSON in the metadata key "config"; OUT gets `loss` [1]
and every parameter's gradient under its name (float32; zeros for the last semantic layer's
attention output and MLP, which feed nothing, as in vlalab).
"""
import json
import sys

import torch

from . import safetensors
from .flow import flow_loss
from .model import MoT, load_weights


def main(argv):
    if len(argv) != 2:
        raise SystemExit("usage: python3 -m vlalab_torch.grad IN.safetensors OUT.safetensors")
    tensors, meta = safetensors.load(argv[0])
    model = load_weights(MoT(json.loads(meta["config"])), {k: v for k, v in tensors.items() if not k.startswith("batch.") and k not in ("x0", "tau")}, argv[0])
    batch = {k[len("batch."):]: v for k, v in tensors.items() if k.startswith("batch.")}
    loss = flow_loss(model, batch, tensors["x0"], tensors["tau"])
    loss.backward()
    out = [("loss", loss.detach().reshape(1))] + [(n, p.grad if p.grad is not None else torch.zeros_like(p)) for n, p in model.named_parameters()]
    safetensors.save(argv[1], out)


if __name__ == "__main__":
    torch.set_num_threads(1)
    main(sys.argv[1:])
