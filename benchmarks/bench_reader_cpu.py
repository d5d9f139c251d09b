"""CPU time a batch costs the reader in one decode thread, with torch at one thread and at its
default (one per core): a torch kernel in the loading path starts torch's OpenMP threads, which
then spin through the next codec calls, and that spinning shows as CPU time here. Runs on the
datasets `bench_reader.py` generates (run that once first).

    .venv/bin/python benchmarks/bench_reader_cpu.py [--sizes 240x320] [--batches 200]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_reader import DEFAULT_CACHE, SIZES, complete, delta_configs

MEASURE = textwrap.dedent(
    """
    import json, sys, time, torch
    cfg = json.loads(sys.argv[1])
    if cfg["torch_threads"]:
        torch.set_num_threads(cfg["torch_threads"])
    from lerobot_fn import data
    from lerobot_fn.data.read.frames import DecodeThreads
    from lerobot_fn.data.read.loader import collate
    ds = data.open(cfg["root"], delta_timestamps=cfg["delta"], video_backend=cfg["backend"],
                   return_uint8=cfg["uint8"])
    ds._threads = DecodeThreads(1)
    order = torch.randperm(len(ds), generator=torch.Generator().manual_seed(0)).tolist()
    batches = [order[i:i + 8] for i in range(0, 8 * cfg["batches"], 8)]
    for b in batches[:5]:
        collate(ds.__getitems__(b))
    t0 = time.process_time()
    for b in batches:
        collate(ds.__getitems__(b))
    print(json.dumps({"cpu_ms": (time.process_time() - t0) / len(batches) * 1e3,
                      "threads": torch.get_num_threads()}))
    """
)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    p.add_argument("--sizes", nargs="+", default=["240x320"], choices=list(SIZES))
    p.add_argument("--batches", type=int, default=200)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    print("| size | config | reader | torch threads | CPU ms a batch (runs) |")
    print("| --- | --- | --- | --- | --- |")
    for size in args.sizes:
        h, w = (int(v) for v in size.split("x"))
        episodes, frames = SIZES[size]
        root = args.cache_dir / f"reader_{episodes}x{frames}_{h}x{w}_30fps"
        if not complete(root, episodes, frames):
            sys.exit(f"no complete dataset at {root}: run benchmarks/bench_reader.py --sizes {size} first")
        for name, delta in delta_configs(30).items():
            for backend in ("pyav", "torchcodec"):
                for uint8 in (False, True):
                    for threads in (1, 0):
                        cfg = {
                            "root": str(root),
                            "delta": delta,
                            "backend": backend,
                            "uint8": uint8,
                            "batches": args.batches,
                            "torch_threads": threads,
                        }
                        runs = []
                        for _ in range(args.repeat):
                            out = subprocess.run(
                                [sys.executable, "-c", MEASURE, json.dumps(cfg)],
                                check=True,
                                capture_output=True,
                                text=True,
                            )
                            runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
                        reader = f"{backend} {'uint8' if uint8 else 'float32'}"
                        cpu = " / ".join(f"{r['cpu_ms']:.1f}" for r in runs)
                        print(f"| {size} | {name} | {reader} | {runs[0]['threads']} | {cpu} |", flush=True)


if __name__ == "__main__":
    main()
