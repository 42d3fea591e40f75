"""Data-parallel training of a vlalab policy from `vlalab data shards`, under torchrun (DDP).

  torchrun --standalone --nproc_per_node N -m vlalab_torch.train --shards DIR --out RUN
  (PYTHONPATH=python from the repository root; N = the shards' --ranks; gloo on CPU, NCCL on GPUs)

Follows the recipe of the shards' resolved training config exactly as `vlalab train` does: the same
batches (rank r reads its b = B / N rows of each step's global batch), the flow-matching loss normalized
by the global mask count (so N ranks' mean gradient is that of the whole batch), AdamW per expert with
global-norm clipping, the cosine schedule and the two-stage curriculum, the weights' moving average.
Rank 0 writes RUN in vlalab's layout (run_dir.py): `vlalab eval --checkpoint RUN`, `vlalab serve
--checkpoint RUN` and `vlalab train --resume` read it as their own. The noise x0 and flow times tau come
from torch's generator (seeded by seed, step and rank), not jax-js's.
"""
import argparse
import json
import math
import os
import sys
import time

import torch
import torch.distributed as dist

from . import safetensors
from .flow import sample_tau
from .model import MoT, init_params, load_weights
from .optim import AdamW, stage_at
from .run_dir import RunDir, write_atomic
from .shards import Shards


def parse_args(argv):
    ap = argparse.ArgumentParser(prog="python3 -m vlalab_torch.train", description=__doc__.split("\n\n")[0])
    ap.add_argument("--shards", required=True, help="directory written by `vlalab data shards --ranks N`")
    ap.add_argument("--out", required=True, help="run directory (checkpoints/, latest.json, metrics.jsonl)")
    ap.add_argument("--steps", type=int, help="optimizer steps (default and maximum: the shards' steps)")
    ap.add_argument("--init-from", help="start from these weights: a vlalab run (latest checkpoint, EMA if kept), checkpoint directory or .safetensors")
    ap.add_argument("--resume", action="store_true", help="continue the run in --out from its latest checkpoint")
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="auto: CUDA when available")
    ap.add_argument("--threads", type=int, help="torch CPU threads per process (default: torch's, or torchrun's OMP_NUM_THREADS)")
    ap.add_argument("--log-samples", action="store_true", help="each rank writes RUN/samples-rank-RRRRR.json: the global sample ids it trained on")
    ap.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    return ap.parse_args(argv)


def weights_file(path):
    """The weights a vlalab run or checkpoint acts with (trainer.ts policyWeightsFile): EMA when kept."""
    if path.endswith(".safetensors"):
        return path
    latest = RunDir(path).latest()
    d = latest[1] if latest else path
    for name in ("ema.safetensors", "model.safetensors"):
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    raise SystemExit(f"--init-from {path}: neither a run (no latest.json) nor a checkpoint (no model.safetensors); pass the --out of a vlalab run")


def step_seed(seed, step, rank):
    """A 63-bit generator seed for (seed, step, rank)."""
    h = ((seed + 1) * 0x9E3779B97F4A7C15) ^ ((step + 1) * 0xBF58476D1CE4E5B9) ^ ((rank + 1) * 0x94D049BB133111EB)
    return h & ((1 << 63) - 1)


def save_tensors(model_or_dict, meta):
    items = model_or_dict.items() if isinstance(model_or_dict, dict) else model_or_dict.named_parameters()
    return safetensors.encode([(n, t.detach().float().cpu()) for n, t in items], meta)


class Trainer:
    """One rank's training state: model (wrapped in DDP), optimizers, EMA, shards."""

    def __init__(self, a):
        self.a = a
        self.distributed = "RANK" in os.environ
        use_cuda = a.device == "cuda" or (a.device == "auto" and torch.cuda.is_available())
        if self.distributed:
            dist.init_process_group("nccl" if use_cuda else "gloo")
        self.rank = dist.get_rank() if self.distributed else 0
        self.world = dist.get_world_size() if self.distributed else 1
        local = int(os.environ.get("LOCAL_RANK", 0))
        self.device = torch.device(f"cuda:{local}" if use_cuda else "cpu")
        if use_cuda:
            torch.cuda.set_device(self.device)
        self.shards = Shards(a.shards, self.rank)
        if self.shards.index["ranks"] != self.world:
            raise SystemExit(f"{a.shards} was written for {self.shards.index['ranks']} rank(s) but {self.world} process(es) run; pass --nproc_per_node {self.shards.index['ranks']} or rewrite the shards with --ranks {self.world}")
        self.cfg = dict(self.shards.train_config)
        if a.steps:
            if a.steps > self.shards.steps:
                raise SystemExit(f"--steps {a.steps}: {a.shards} holds {self.shards.steps} steps; write more with `vlalab data shards --steps {a.steps}`")
            self.cfg["steps"] = a.steps
        self.mc = self.shards.model_config
        self.run = RunDir(a.out)
        self.model = MoT(self.mc)
        self.start = 0
        latest = self.run.latest()
        if latest and not a.resume:
            raise SystemExit(f"{a.out} already holds a run (step {latest[0]}); pass --resume to continue it or choose another --out")
        if latest:
            self.load(latest[1])
        else:
            if a.init_from:
                f = weights_file(a.init_from)
                load_weights(self.model, safetensors.load(f)[0], f)
            else:
                init_params(self.model, self.cfg["seed"])
        self.model.to(self.device)
        named = list(self.model.named_parameters())
        opt = dict(weight_decay=self.cfg["weightDecay"], max_grad_norm=self.cfg["clipNorm"])
        self.opts = {e: AdamW([(n, p) for n, p in named if n.startswith(e + ".")], **opt) for e in ("semantic", "action")}
        if latest:
            self.load_optimizers(latest[1])
        self.ema = {n: p.detach().clone() for n, p in named} if self.cfg["emaDecay"] > 0 else None
        if latest and self.ema is not None:
            ema, _ = safetensors.load(os.path.join(latest[1], "ema.safetensors"))
            for n in self.ema:
                self.ema[n].copy_(ema[n])
        # the last semantic layer's attention output and MLP feed nothing, and stage 1 freezes the
        # semantic expert: parameters without gradients, which DDP must be told to expect
        self.ddp = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=[self.device] if use_cuda else None, find_unused_parameters=True) if self.distributed else self.model

    def load(self, d):
        f = os.path.join(d, "model.safetensors")
        load_weights(self.model, safetensors.load(f)[0], f)
        with open(os.path.join(d, "trainer.json")) as fh:
            self.trainer_state = json.load(fh)
        self.start = self.trainer_state["step"]

    def load_optimizers(self, d):
        m, _ = safetensors.load(os.path.join(d, "adam-m.safetensors"))
        v, _ = safetensors.load(os.path.join(d, "adam-v.safetensors"))
        for e, o in self.opts.items():
            o.step_count = self.trainer_state["optSteps"][e]
            for n, _ in o.named:
                o.m[n].copy_(m[n])
                o.v[n].copy_(v[n])

    def all_sum(self, x):
        if self.distributed:
            dist.all_reduce(x)
        return x

    def train_step(self, step):
        """One optimizer step on this rank's rows of the step's batch; returns (global loss, grad norm, lr, stage, sample ids)."""
        cfg, b = self.cfg, self.shards.rank_batch
        stage, lr, frozen = stage_at(cfg, step)
        batch, ids = self.shards.batch(step, self.device)
        g = torch.Generator(device=self.device).manual_seed(step_seed(cfg["seed"], step, self.rank))
        x0 = torch.randn(batch["actions"].shape, generator=g, device=self.device)
        tau = sample_tau(b, cfg["timeSampling"], g, self.device)
        for p in self.model.parameters():
            p.grad = None
        err, count = self.ddp(batch, x0, tau, frozen)
        total = self.all_sum(count.detach().clone())  # H x the mask count of the global batch
        # DDP averages gradients over the N ranks: N err_r / total makes the mean the gradient of sum_r err_r / total
        (err * self.world / total).backward()
        norm_a = self.opts["action"].step(lr)
        norm_s = torch.zeros_like(norm_a) if frozen else self.opts["semantic"].step(lr)
        if self.ema is not None:
            d = cfg["emaDecay"]
            with torch.no_grad():
                for n, p in self.model.named_parameters():
                    self.ema[n].mul_(d).add_(p, alpha=1 - d)
        loss = self.all_sum(err.detach().clone()) / total
        return loss.item(), math.sqrt(norm_s.item() ** 2 + norm_a.item() ** 2), lr, stage, ids

    def checkpoint(self, step):
        files = {
            "model.safetensors": save_tensors(self.model, {"format": "vlalab", "config": self.mc["name"]}),
            "adam-m.safetensors": save_tensors({n: t for o in self.opts.values() for n, t in o.m.items()}, {"format": "vlalab", "config": self.mc["name"]}),
            "adam-v.safetensors": save_tensors({n: t for o in self.opts.values() for n, t in o.v.items()}, {"format": "vlalab", "config": self.mc["name"]}),
            "config.json": json.dumps(self.mc, indent=2),
            "trainer.json": json.dumps({"step": step, "optSteps": {e: o.step_count for e, o in self.opts.items()}}),
            "policy.json": self.shards.policy_json,
        }
        if self.ema is not None:
            files["ema.safetensors"] = save_tensors(self.ema, {"format": "vlalab", "config": self.mc["name"]})
        return self.run.write_checkpoint(step, files)

    def fit(self):
        cfg, a = self.cfg, self.a
        steps = cfg["steps"]
        lead = self.rank == 0
        if lead and self.start == 0:
            write_atomic(self.run.path("config.json"), json.dumps({"train": cfg, "model": self.mc, "source": {"shards": os.path.abspath(a.shards), "trainer": "vlalab_torch", "world": self.world}}, indent=2))
        if lead and self.start > 0:
            self.truncate_metrics(self.start)
        seen, losses = [], []
        t0 = time.perf_counter()
        last_log, since_log = t0, 0
        ckpt = None
        for step in range(self.start, steps):
            loss, norm, lr, stage, ids = self.train_step(step)
            if not math.isfinite(loss):
                raise SystemExit(f"training diverged at step {step + 1} (loss {loss}); lower lr or raise clipNorm in the shards' config")
            seen.extend(int(i) for i in ids)
            since_log += self.shards.index["batchSize"]
            last = step + 1 == steps
            if lead and ((step + 1) % cfg["logEvery"] == 0 or last or step == self.start):
                now = time.perf_counter()
                self.run.append_metrics({"step": step + 1, "loss": loss, "lr": lr, "gradNorm": norm, "samplesPerSec": since_log / max(1e-9, now - last_log), "stage": stage, "time": now - t0})
                losses.append(loss)
                last_log, since_log = now, 0
                if not a.quiet:
                    print(f"step {step + 1}/{steps} loss {loss:.4f} lr {lr:.1e} ({self.world} rank(s))", file=sys.stderr, flush=True)
            if lead and ((step + 1) % cfg["checkpointEvery"] == 0 or last):
                ckpt = self.checkpoint(step + 1)
            if self.distributed and ((step + 1) % cfg["checkpointEvery"] == 0 or last):
                dist.barrier()  # no rank runs ahead of a checkpoint rank 0 is writing
        seconds = time.perf_counter() - t0
        if a.log_samples:
            write_atomic(self.run.path(f"samples-rank-{self.rank:05d}.json"), json.dumps({"rank": self.rank, "samples": seen}))
        if lead:
            n = steps - self.start
            tail = losses[-max(1, math.ceil(len(losses) / 10)):] if losses else [float("nan")]
            print(json.dumps({"run": a.out, "checkpoint": ckpt, "steps": steps, "world": self.world, "device": str(self.device),
                              "first_loss": losses[0] if losses else None, "final_loss": sum(tail) / len(tail), "train_seconds": seconds,
                              "samples_per_sec": n * self.shards.index["batchSize"] / seconds if n else 0}), flush=True)
        if self.distributed:
            dist.destroy_process_group()

    def truncate_metrics(self, step):
        p = self.run.path("metrics.jsonl")
        if not os.path.exists(p):
            return
        keep = []
        with open(p) as f:
            for line in f:
                try:
                    if json.loads(line)["step"] <= step:
                        keep.append(line)
                except ValueError:
                    pass  # a line cut by a kill mid-write
        write_atomic(p, "".join(keep))


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    Trainer(a).fit()


if __name__ == "__main__":
    main()
