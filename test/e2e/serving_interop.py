"""Drives a vlalab policy server the way openpi's Python client does, and checks the answers.

Usage: /usr/bin/python3 serving_interop.py ws://127.0.0.1:PORT
Needs Debian's python3-msgpack, python3-websockets and python3-numpy. Prints one JSON line.

The codec below is openpi_client.msgpack_numpy's behaviour (arrays and numpy scalars as maps
with *bytes* keys, decoded through an object_hook); the client follows
WebsocketClientPolicy: connect with compression=None, max_size=None, read the metadata frame,
then send packb(obs) and read the reply, a str reply being a server error.
"""

import asyncio
import json
import sys
import urllib.request

import msgpack
import numpy as np
import websockets


def pack_array(obj):
    if isinstance(obj, (np.ndarray, np.generic)) and obj.dtype.kind in ("V", "O", "c"):
        raise ValueError(f"Unsupported dtype: {obj.dtype}")
    if isinstance(obj, np.ndarray):
        return {b"__ndarray__": True, b"data": obj.tobytes(), b"dtype": obj.dtype.str, b"shape": obj.shape}
    if isinstance(obj, np.generic):
        return {b"__npgeneric__": True, b"data": obj.item(), b"dtype": obj.dtype.str}
    return obj


def unpack_array(obj):
    if b"__ndarray__" in obj:
        return np.ndarray(buffer=obj[b"data"], dtype=np.dtype(obj[b"dtype"]), shape=obj[b"shape"])
    if b"__npgeneric__" in obj:
        return np.dtype(obj[b"dtype"]).type(obj[b"data"])
    return obj


def packb(obj):
    return msgpack.packb(obj, default=pack_array)


def unpackb(data):
    return msgpack.unpackb(data, object_hook=unpack_array)


def observation(i, state_dim):
    rng = np.random.default_rng(i)
    return {
        "observation/image": rng.integers(0, 256, size=(224, 224, 3), dtype=np.uint8),
        "observation/wrist_image": rng.integers(0, 256, size=(224, 224, 3), dtype=np.uint8),
        # float64 on purpose: robots often send it, the server must accept both float widths
        "observation/state": rng.standard_normal(state_dim),
        "prompt": "put the bowl on the plate" + "!" * i,
        # extra keys with numpy scalars are allowed and ignored
        "episode_step": np.int64(i),
        "gain": np.float32(0.5),
    }


def echo(obs, horizon, dim):
    """The server's echo policy: state[d mod S] + 0.01 h + image[0,0,0]/255 + 0.001 len(prompt)."""
    state = obs["observation/state"].astype(np.float32)
    pixel = np.float32(obs["observation/image"][0, 0, 0]) / np.float32(255)
    h = np.arange(horizon, dtype=np.float32)[:, None]
    cols = state[np.arange(dim) % state.shape[0]][None, :]
    return cols + np.float32(0.01) * h + pixel + np.float32(0.001 * len(obs["prompt"]))


async def main(uri):
    out = {}
    with urllib.request.urlopen(uri.replace("ws://", "http://") + "/healthz") as r:
        out["healthz"] = [r.status, r.read().decode()]
    async with websockets.connect(uri, compression=None, max_size=None) as ws:
        meta = unpackb(await ws.recv())
        out["metadata"] = {k: v for k, v in meta.items() if isinstance(v, (int, str, list))}
        horizon, dim = meta["action_horizon"], meta["action_dim"]
        errors = []
        for i in range(5):
            obs = observation(i, meta["state_dim"])
            await ws.send(packb(obs))
            reply = await ws.recv()
            if isinstance(reply, str):
                raise RuntimeError(f"Error in inference server:\n{reply}")
            reply = unpackb(reply)
            actions = reply["actions"]
            assert isinstance(actions, np.ndarray), type(actions)
            out["dtype"], out["shape"] = actions.dtype.str, list(actions.shape)
            errors.append(float(np.max(np.abs(actions - echo(obs, horizon, dim)))))
            out["timing_keys"] = sorted(reply["server_timing"].keys())
        out["max_abs_error"] = max(errors)
    # a string-keyed "array" (not what openpi writes) must be refused with a text frame and 1011
    async with websockets.connect(uri, compression=None, max_size=None) as ws:
        await ws.recv()
        bad = observation(0, meta["state_dim"])
        bad["observation/state"] = {"__ndarray__": True, "data": b"\0" * 8, "dtype": "<f4", "shape": [2]}
        await ws.send(msgpack.packb(bad, default=pack_array))
        reply = await ws.recv()
        out["error_is_text"] = isinstance(reply, str)
        out["error_text"] = reply if isinstance(reply, str) else None
        try:
            await ws.recv()
        except websockets.ConnectionClosed as e:
            out["close_code"] = e.code
    print(json.dumps(out))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
