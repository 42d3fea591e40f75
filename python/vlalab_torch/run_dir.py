"""vlalab's run-directory layout (src/training/run-state.ts), written from Python:

  RUN/config.json                 {"train": TrainConfig, "model": ModelConfig}
  RUN/metrics.jsonl               one JSON line per logged step (step, loss, lr, gradNorm, samplesPerSec, stage, time)
  RUN/checkpoints/step-000500/    model.safetensors, adam-m.safetensors, adam-v.safetensors, config.json,
                                  trainer.json, policy.json[, ema.safetensors]
  RUN/latest.json                 {"step": 500, "dir": "checkpoints/step-000500"}, written last

Every file is written atomically and latest.json only after the checkpoint it names is complete, so
`vlalab eval --checkpoint RUN`, `vlalab serve` and `vlalab train --resume` read it as one of theirs.
"""
import json
import os
import re
import shutil


def write_atomic(path, data):
    """Writes bytes or text to `path` through a temporary file and a rename (never a torn file)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data.encode("utf8") if isinstance(data, str) else data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class RunDir:
    """A run directory rooted at `root`."""

    def __init__(self, root):
        self.root = root

    def path(self, *parts):
        return os.path.join(self.root, *parts)

    def latest(self):
        """(step, checkpoint dir) named by latest.json, or None for a fresh run."""
        p = self.path("latest.json")
        if not os.path.exists(p):
            return None
        with open(p) as f:
            d = json.load(f)
        return d["step"], self.path(d["dir"])

    def write_checkpoint(self, step, files, keep=2):
        """Writes every file of checkpoints/step-NNNNNN/ atomically, then latest.json; keeps the newest `keep`."""
        name = f"step-{step:06d}"
        for file, data in files.items():
            write_atomic(self.path("checkpoints", name, file), data)
        write_atomic(self.path("latest.json"), json.dumps({"step": step, "dir": f"checkpoints/{name}"}))
        every = sorted(d for d in os.listdir(self.path("checkpoints")) if re.fullmatch(r"step-\d+", d))
        for old in every[:max(0, len(every) - keep)]:
            shutil.rmtree(self.path("checkpoints", old), ignore_errors=True)
        return self.path("checkpoints", name)

    def append_metrics(self, line):
        os.makedirs(self.root, exist_ok=True)
        with open(self.path("metrics.jsonl"), "a") as f:
            f.write(json.dumps(line) + "\n")
