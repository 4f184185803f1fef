#!/usr/bin/env python3
"""read_safetensors.py - reads a prunelab checkpoint outside prunelab, to prove the files are
ordinary safetensors.

Uses only the standard library (struct + json) to parse and validate the file the way the
safetensors specification describes it; then, if numpy and/or torch are importable (Debian
python3-numpy / python3-torch), builds arrays/tensors from the same bytes
(numpy.frombuffer, torch.frombuffer) and checks they hold identical bits.

    python3 tests/reference/read_safetensors.py FILE.safetensors
    python3 tests/reference/read_safetensors.py --expect-sample FILE.safetensors

--expect-sample additionally checks every value bit for bit against what
tests/reference/write_sample.c writes. Exit status 0 when every check passes.
"""
import json
import struct
import sys

ELEMENT_BYTES = {"F32": 4}


def fail(path, msg):
    raise SystemExit(f"{path}: {msg}")


def no_duplicates(pairs):
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def read(path):
    """Returns (metadata dict, {name: (shape, begin, end)}, data bytes)."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        fail(path, f"only {len(blob)} bytes")
    (hlen,) = struct.unpack("<Q", blob[:8])
    if hlen == 0 or hlen > len(blob) - 8:
        fail(path, f"header length {hlen} does not fit a {len(blob)}-byte file")
    header = json.loads(blob[8:8 + hlen].decode("utf-8"), object_pairs_hook=no_duplicates)
    if not isinstance(header, dict):
        fail(path, "header is not a JSON object")
    data = blob[8 + hlen:]
    metadata = header.pop("__metadata__", {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        fail(path, "metadata values must be strings")
    tensors = {}
    for name, info in header.items():
        if set(info) != {"dtype", "shape", "data_offsets"}:
            fail(path, f"{name}: fields {sorted(info)}")
        if info["dtype"] not in ELEMENT_BYTES:
            fail(path, f"{name}: dtype {info['dtype']}")
        shape = info["shape"]
        if not all(isinstance(d, int) and d >= 0 for d in shape):
            fail(path, f"{name}: shape {shape}")
        begin, end = info["data_offsets"]
        count = 1
        for d in shape:
            count *= d
        if not (0 <= begin <= end <= len(data)) or end - begin != count * ELEMENT_BYTES[info["dtype"]]:
            fail(path, f"{name}: data_offsets {[begin, end]} do not match shape {shape}")
        tensors[name] = (shape, begin, end)
    position = 0
    for name, (shape, begin, end) in sorted(tensors.items(), key=lambda kv: (kv[1][1], kv[1][2])):
        if begin != position:
            fail(path, f"{name}: starts at {begin}, expected {position} (overlap or hole)")
        position = end
    if position != len(data):
        fail(path, f"{len(data) - position} bytes after the last tensor")
    return metadata, tensors, data


def bits_of(data, begin, end):
    return list(struct.unpack(f"<{(end - begin) // 4}I", data[begin:end]))


def expected_sample():
    """Bit patterns tests/reference/write_sample.c stores, by tensor name."""
    layout = [("blocks.0.fc.weight", [3, 5]), ("blocks.0.fc.bias", [3]),
              ("vision.patch", [2, 1, 3, 4]), ("ln.gain", [1])]
    want = {}
    for i, (name, shape) in enumerate(layout):
        count = 1
        for d in shape:
            count *= d
        want[name] = (shape, [(0x3E000000 + 7919 * j * (i + 1)) % 2**32 for j in range(count)])
    want["blocks.0.fc.weight.mask"] = ([3, 5], [struct.unpack("<I", struct.pack("<f", j % 2))[0]
                                                for j in range(15)])
    want["special"] = ([10], [0x7FC00001, 0x7F800001, 0xFFFFFFFF, 0x80000000, 0x00000000,
                              0x00000001, 0x807FFFFF, 0x7F800000, 0xFF800000, 0x7F7FFFFF])
    want["scalar"] = ([], [0x80000000])
    return want


def main(argv):
    args = [a for a in argv[1:] if a != "--expect-sample"]
    if len(args) != 1:
        raise SystemExit(__doc__)
    path = args[0]
    metadata, tensors, data = read(path)
    print(f"{path}: {len(tensors)} tensors, {len(data)} data bytes, metadata keys {sorted(metadata)}")
    for name, (shape, begin, end) in sorted(tensors.items()):
        print(f"  {name:28s} F32 {shape} bytes [{begin}, {end})")
    if "config" in metadata:
        print(f"  config (parsed as JSON): {json.loads(metadata['config'])}")

    if "--expect-sample" in argv:
        want = expected_sample()
        if set(want) != set(tensors):
            fail(path, f"tensor names {sorted(tensors)} != {sorted(want)}")
        for name, (shape, bits) in want.items():
            got_shape, begin, end = tensors[name]
            if got_shape != shape or bits_of(data, begin, end) != bits:
                fail(path, f"{name}: shape or bits differ from what write_sample.c stores")
        config = json.loads(metadata["config"])
        if config != {"preset": "tiny", "dim": 64, "note": "\u00e9\n"}:
            fail(path, f"config metadata {config}")
        if metadata.get("format") != "pt" or metadata.get("prunelab_version") != "0.1.0":
            fail(path, f"metadata {metadata}")
        print("stdlib reader: every tensor's shape and bits match write_sample.c (NaN payloads, -0.0, "
              "denormals included)")

    try:
        import numpy as np
    except ImportError:
        print("numpy not available: skipped")
    else:
        for name, (shape, begin, end) in tensors.items():
            array = np.frombuffer(data, dtype="<f4", count=(end - begin) // 4, offset=begin).reshape(shape)
            if array.view("<u4").ravel().tolist() != bits_of(data, begin, end):
                fail(path, f"{name}: numpy view differs")
        print(f"numpy {np.__version__}: {len(tensors)} arrays built with frombuffer, bits identical")

    try:
        import torch
    except ImportError:
        print("torch not available: skipped")
        return 0
    if sys.byteorder != "little":
        fail(path, "torch.frombuffer check assumes a little-endian host")
    state = {}
    for name, (shape, begin, end) in tensors.items():
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=torch.float32).reshape(shape)
        if t.view(torch.int32).flatten().tolist() != [b - 2**32 if b >= 2**31 else b
                                                       for b in bits_of(data, begin, end)]:
            fail(path, f"{name}: torch tensor bits differ")
        state[name] = t
    w = state.get("blocks.0.fc.weight")
    extra = f"; blocks.0.fc.weight sum {w.sum().item():.6g}" if w is not None else ""
    print(f"torch {torch.__version__}: state dict of {len(state)} tensors built with frombuffer, "
          f"bits identical{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
