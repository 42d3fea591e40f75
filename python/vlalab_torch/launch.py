"""torchrun, working around torch 1.13 on Python >= 3.11 (Debian bookworm's python3-torch):

  python3 -m vlalab_torch.launch --standalone --nproc_per_node 2 -m vlalab_torch.train --shards DIR --out RUN

takes torchrun's arguments unchanged. There, `torchrun` itself fails before starting any worker
("AttributeError: 'NoneType' object has no attribute 'get'"): its `Std.from_str("0")` looks the value up
by iterating the `Std` flag enum, and Python 3.11 no longer yields a flag's 0 member (NONE) or its
multi-bit aliases (ALL) when iterating. This patches the lookup, only where it is broken, and runs
torch.distributed.run. With a newer torch, plain `torchrun` does the same.
"""
from torch.distributed.elastic.multiprocessing import api


def _patch_std():
    std = api.Std
    if std.from_str("0") is not None:
        return
    original = std.from_str.__func__

    def from_str(cls, vm):
        if isinstance(vm, str) and vm.strip().isdigit():
            return cls(int(vm))
        out = original(cls, vm)
        if isinstance(out, dict):  # "0:3,1:0": the mapping's values went through the same lookup
            return {int(k): cls(int(v)) for k, v in (m.split(":") for m in vm.split(","))}
        return out

    std.from_str = classmethod(from_str)


if __name__ == "__main__":
    _patch_std()
    from torch.distributed.run import main

    main()
