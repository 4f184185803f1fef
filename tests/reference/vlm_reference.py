#!/usr/bin/env python3
"""vlm_reference.py - the PyTorch side of the model reference check.

Reads DIR/model.safetensors (a prunelab checkpoint, parsed with the standard-library reader
in read_safetensors.py, then turned into torch tensors) and DIR/batch.safetensors, runs
torch_vlm.forward + autograd in float64, and writes DIR/expected.safetensors holding the
losses, the logits and the gradient of every parameter ("grad.<name>"), in float32.

    /usr/bin/python3 tests/reference/vlm_reference.py tests/reference/fixtures

Needs Debian's python3-torch. `make reference-fixtures` runs the whole chain.
"""
import json
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import read_safetensors  # noqa: E402
import torch_vlm  # noqa: E402


def load(path):
    metadata, tensors, data = read_safetensors.read(path)
    out = {}
    for name, (shape, begin, end) in tensors.items():
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32)
        out[name] = t.reshape(shape).clone()
    return metadata, out


def write(path, tensors, metadata):
    """Minimal safetensors writer: sorted names, packed data, header padded to 8 bytes."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().to(torch.float32).contiguous()
        raw = t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in blobs:
            f.write(raw)


def main(directory):
    meta, params = load(os.path.join(directory, "model.safetensors"))
    _, batch = load(os.path.join(directory, "batch.safetensors"))
    config = json.loads(meta["config"])
    if "blocks" in meta:  # the per-block shape; files from before it are uniform
        config["blocks"] = json.loads(meta["blocks"])
    cfg = torch_vlm.Config(**config)
    names = [n for n, _ in torch_vlm.parameter_shapes(cfg)]
    p = {n: params[n].double().requires_grad_(True) for n in names}
    masks = {n[: -len(".mask")]: v.double() for n, v in params.items() if n.endswith(".mask")}
    task_w, aux_w, bridge_w = (float(x) for x in batch["loss_weights"])
    total, task, aux, bridge_aux, logits = torch_vlm.forward(
        p, cfg, batch["images"].double(), batch["tokens"].long(), batch["targets"].long(),
        batch["cells"].long(), task_weight=task_w, aux_weight=aux_w, bridge_aux_weight=bridge_w,
        masks=masks)
    total.backward()
    out = {"loss_total": total.reshape(1), "loss_task": task.reshape(1),
           "loss_aux": aux.reshape(1), "loss_bridge_aux": bridge_aux.reshape(1), "logits": logits}
    for n in names:
        out["grad." + n] = p[n].grad
    write(os.path.join(directory, "expected.safetensors"), out,
          {"torch": torch.__version__, "dtype": "float64 forward/backward, stored as float32"})
    print(f"loss {total.item():.6f} (task {task.item():.6f}, aux {aux.item():.6f}); "
          f"{len(names)} gradients written")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tests/reference/fixtures")
