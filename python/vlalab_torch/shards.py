"""Reader of the shards written by `vlalab data shards` (format version 1; src/cli/shards.ts documents it).

Rank r's files hold rows [S, b, ...] of every batch field; row (s, j) is sample r b + j of vlalab's
`batchAt(s)`. u8 views decode exactly as vlalab's loader computes pixels: x / 127.5 - 1 in float32
where the view is present, 0 in absent view slots. Files are memory-mapped: a rank reads only its own.
"""
import json
import os

import numpy as np
import torch

FORMAT_VERSION = 1
_NP = {"u8": np.uint8, "i32": np.int32, "f32": np.float32, "i64": np.int64}
# [-1, 1] value of each byte, as vlalab's loader computes it (in float64, then rounded to float32)
PIXEL = (np.arange(256, dtype=np.float64) / 127.5 - 1).astype(np.float32)


class Shards:
    """The shards of one rank in directory `root` (index.json, config.json, policy.json, rank-RRRRR/)."""

    def __init__(self, root, rank):
        self.root = root
        index = os.path.join(root, "index.json")
        if not os.path.exists(index):
            raise SystemExit(f"{index} not found; pass a directory written by `vlalab data shards` (one without index.json is incomplete)")
        with open(index) as f:
            self.index = json.load(f)
        ix = self.index
        if ix.get("format") != "vlalab-shards" or ix.get("version") != FORMAT_VERSION:
            raise SystemExit(f"{index}: not vlalab shards of format version {FORMAT_VERSION}; rewrite them with this vlalab")
        if not 0 <= rank < ix["ranks"]:
            raise SystemExit(f"{root} was written for {ix['ranks']} rank(s), not rank {rank}; rewrite it with `vlalab data shards --ranks N` for N processes")
        with open(os.path.join(root, "config.json")) as f:
            cfg = json.load(f)
        self.train_config, self.model_config = cfg["train"], cfg["model"]
        with open(os.path.join(root, "policy.json")) as f:
            self.policy_json = f.read()
        self.rank, self.steps, self.rank_batch = rank, ix["steps"], ix["rankBatch"]
        self.arrays = {}
        for name, spec in ix["fields"].items():
            shape = (self.steps, self.rank_batch, *spec["shape"])
            self.arrays[name] = np.memmap(os.path.join(root, ix["files"][rank][name]), dtype=np.dtype(_NP[spec["dtype"]]).newbyteorder("<"), mode="r", shape=shape)

    def batch(self, step, device="cpu"):
        """(batch dict of tensors named as vlalab's Batch, global sample ids [b]) of this rank at `step`."""
        if not 0 <= step < self.steps:
            raise SystemExit(f"{self.root} holds steps [0, {self.steps}); asked for step {step}: write more with `vlalab data shards --steps`")
        a = {k: np.asarray(v[step]) for k, v in self.arrays.items()}
        if self.index["imageEncoding"] == "u8":
            present = a["imageMask"][:, :, None, None, None] != 0
            a["images"] = np.where(present, PIXEL[a["images"]], np.float32(0))
        out = {k: torch.from_numpy(np.array(v)).to(device) for k, v in a.items() if k != "sample"}
        return out, a["sample"].copy()
