#!/usr/bin/env python3
"""torch_twin.py - the PyTorch speed peer of bench_train.c: one training step (forward,
backward, AdamW) of the same architecture, batch and loss, float32 on the CPU, timed at
each thread count up to the cores; prints the best as "samples_per_s <value>" last.
bf16: the forward and backward under PyTorch's own mixed precision on the CPU
(torch.autocast with bfloat16: matrix products in BF16, float32 master weights and AdamW),
the peer of prunelab's numerics precision bf16.

    /usr/bin/python3 bench/torch_twin.py PRESET [BATCH] [STEPS] [fp32|bf16]
"""
import contextlib
import os
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "reference"))
import torch_vlm  # noqa: E402

PRESETS = {
    "tiny": dict(dim_vision=64, dim_query=64, dim_language=64, layers_vision=4, layers_query=2, layers_language=4),
    "small": dict(dim_vision=128, dim_query=128, dim_language=128, layers_vision=6, layers_query=2, layers_language=6),
    "base": dict(dim_vision=192, dim_query=192, dim_language=256, layers_vision=8, layers_query=2, layers_language=8),
}


def main():
    preset = sys.argv[1] if len(sys.argv) > 1 else "tiny"
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 32
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    precision = sys.argv[4] if len(sys.argv) > 4 else "fp32"
    if precision not in ("fp32", "bf16"):
        sys.exit("usage: torch_twin.py PRESET [BATCH] [STEPS] [fp32|bf16]")

    def autocast():
        if precision == "bf16":
            return torch.autocast("cpu", dtype=torch.bfloat16)
        return contextlib.nullcontext()
    cfg = torch_vlm.Config(heads=4, num_queries=8, vocab_size=57, text_len=22, **PRESETS[preset])
    gen = torch.Generator().manual_seed(0)
    params = {n: (torch.randn(s, generator=gen) * 0.02).requires_grad_(True)
              for n, s in torch_vlm.parameter_shapes(cfg)}
    images = torch.randn(batch, 56 * 56, generator=gen)
    tokens = torch.randint(0, 57, (batch, 22), generator=gen)
    targets = torch.where(torch.arange(22) >= 10, tokens, torch.full_like(tokens, -1))
    cells = torch.randint(0, 11, (batch, 4), generator=gen)
    opt = torch.optim.AdamW(params.values(), lr=1e-3, weight_decay=0.01)
    results = {}
    for threads in range(1, (os.cpu_count() or 1) + 1):
        torch.set_num_threads(threads)
        best = float("inf")
        for step in range(steps + 3):
            t0 = time.perf_counter()
            opt.zero_grad(set_to_none=True)
            with autocast():
                total, _, _, _, _ = torch_vlm.forward(params, cfg, images, tokens, targets,
                                                    cells, task_weight=1.0, aux_weight=0.5)
            total.backward()
            opt.step()
            dt = time.perf_counter() - t0
            if step >= 3:
                best = min(best, dt)
        results[threads] = batch / best
        print(f"torch {torch.__version__} {preset} {precision} batch {batch} threads {threads}: "
              f"best step {best * 1e3:.2f} ms")
    print(f"samples_per_s {max(results.values()):.1f}")


if __name__ == "__main__":
    main()
