"""The safetensors format, by its spec (huggingface/safetensors): an 8-byte little-endian header
length n, an n-byte JSON header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__":
{...}} with offsets relative to the end of the header, then the raw little-endian tensor bytes.

No package needed: Debian's python3-torch does not ship `safetensors`. Mirrors src/model/safetensors.ts
(F32 and I32 only; the header is padded with spaces so the data starts 8-byte aligned).
"""
import json
import struct

import torch

_DTYPES = {"F32": torch.float32, "I32": torch.int32, "U8": torch.uint8}
_NAMES = {v: k for k, v in _DTYPES.items()}


def encode(tensors, metadata=None):
    """Bytes of the named tensors (an iterable of (name, tensor), written in that order) and string metadata."""
    header = {"__metadata__": {k: str(v) for k, v in (metadata or {}).items()}}
    blobs = []
    offset = 0
    for name, t in tensors:
        t = t.detach().contiguous().cpu()
        if t.dtype not in _NAMES:
            raise ValueError(f"safetensors: {name} has dtype {t.dtype}; only float32, int32 and uint8 are written")
        raw = t.numpy().tobytes()
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    head = json.dumps(header, separators=(",", ":")).encode("utf8")
    head += b" " * ((8 - (8 + len(head)) % 8) % 8)  # align the data to 8 bytes
    return b"".join([struct.pack("<Q", len(head)), head, *blobs])


def decode(data, file="safetensors"):
    """(tensors: dict name -> tensor, metadata: dict) from safetensors bytes; `file` names the source in errors."""
    def bad(m):
        return ValueError(f"{file}: {m}; the file is not a valid safetensors checkpoint (re-save it)")

    if len(data) < 8:
        raise bad("shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", data[:8])
    if 8 + n > len(data):
        raise bad(f"header length {n} exceeds the file size {len(data)}")
    try:
        header = json.loads(data[8:8 + n].decode("utf8"))
    except ValueError:
        raise bad("header is not JSON") from None
    start = 8 + n
    tensors, metadata = {}, {}
    for name, e in header.items():
        if name == "__metadata__":
            metadata = e
            continue
        if e["dtype"] not in _DTYPES:
            raise bad(f"tensor {name} has dtype {e['dtype']}; only F32, I32 and U8 are read")
        begin, end = e["data_offsets"]
        dtype = _DTYPES[e["dtype"]]
        count = 1
        for d in e["shape"]:
            count *= d
        if not (0 <= begin and start + end <= len(data) and end - begin == count * torch.tensor([], dtype=dtype).element_size()):
            raise bad(f"tensor {name} has bad data_offsets [{begin}, {end}]")
        buf = bytearray(data[start + begin:start + end])  # a writable copy
        tensors[name] = torch.frombuffer(buf, dtype=dtype).reshape(e["shape"]) if count else torch.zeros(e["shape"], dtype=dtype)
    return tensors, metadata


def load(path):
    """(tensors, metadata) of a .safetensors file."""
    with open(path, "rb") as f:
        return decode(f.read(), path)


def save(path, tensors, metadata=None):
    """Writes a .safetensors file atomically (a temporary file, then rename)."""
    from .run_dir import write_atomic

    write_atomic(path, encode(tensors, metadata))
