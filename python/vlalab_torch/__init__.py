"""vlalab_torch: vlalab's Mixture-of-Transformers VLA in PyTorch, for training on many GPUs.

The same parameter names and shapes as vlalab's safetensors checkpoints (`semantic.layers.0.attn.wq`,
weights [in, out]), the same flow-matching loss, AdamW and cosine schedule, a reader of the shards
written by `vlalab data shards`, and a `torchrun` entry point (`python3 -m vlalab_torch.train`) that
writes vlalab run directories, so `vlalab eval`, `vlalab serve` and `vlalab train --resume` load them unchanged.

Modules: safetensors (the file format), model (MoT), flow (loss, sampling), optim (AdamW, cosine,
curriculum), shards (reader), run_dir (checkpoints), train (the entry point), grad (one loss and
gradient for the parity test).
"""
