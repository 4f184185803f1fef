#!/usr/bin/env python3
"""bench_memory.py - `make bench-memory`: peak resident memory of a finetune run with the
default distillation teacher (the same weights read unmasked: no second model in memory)
against a teacher loaded from a checkpoint (a second model), and against no teacher
(lambda 0), each run in its own process in a fresh results directory. Reports the peak RSS
of each process (ru_maxrss from wait4) and the differences.

usage: bench_memory.py PRUNELAB [MODEL]   (MODEL: tiny (default) or small)"""
import os
import subprocess
import sys
import tempfile


def peak_rss_mb(cmd):
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    err = proc.stderr.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench_memory: {' '.join(cmd)} failed:\n{err}")
    return usage.ru_maxrss / 1024.0


def main():
    prunelab = sys.argv[1]
    model = sys.argv[2] if len(sys.argv) > 2 else "tiny"
    teacher = f"experiments/teachers/{model}.safetensors"
    if not os.path.exists(teacher):
        sys.exit(f"bench_memory: {teacher} is missing; train it with "
                 f"`prunelab train experiments/teacher_{model}.yaml --out {teacher}`")
    variants = [
        ("no distillation (lambda 0)", ["pipeline.finetune.lambda=0"]),
        ("teacher = same weights, unmasked", ["pipeline.finetune.teacher=same"]),
        ("teacher = checkpoint (second model)", [f"pipeline.finetune.teacher={teacher}"]),
        ("masked full fine-tuning (keeps a copy)", ["pipeline.finetune.adapter=none"]),
    ]
    # the fixture names the tiny preset; another model gets a copy next to it (relative paths)
    with open("bench/memory.yaml") as f:
        spec = f.read().replace("configs/model/tiny.yaml", f"configs/model/{model}.yaml")
    spec_path = f"bench/.memory_{model}_{os.getpid()}.yaml"
    with open(spec_path, "w") as f:
        f.write(spec)
    rows = []
    try:
        for label, overrides in variants:
            with tempfile.TemporaryDirectory(prefix="prunelab_mem_") as tmp:
                cmd = [prunelab, "run", spec_path, f"engine.results_dir={tmp}",
                       f"pipeline.load.path={teacher}"] + overrides
                rows.append((label, peak_rss_mb(cmd)))
    finally:
        os.remove(spec_path)
    print(f"{'finetune teacher (' + model + ')':42s} {'peak RSS MiB':>12s} {'vs lambda 0':>12s}")
    for label, mb in rows:
        print(f"{label:42s} {mb:12.1f} {mb - rows[0][1]:+12.1f}")


if __name__ == "__main__":
    main()
