"""CPU time a batch costs the reader in one decode thread, against the codec alone decoding the
same frames (benchmarks/codec_alone.py) in the same process, passes alternated.

The codec's share of the reader's CPU is the most of the codec limit the reader can reach on a
core (what `bench_reader.py` reports as "of codec limit"), measured in CPU time, which this VM's
throughput drift barely moves: what it lacks is the reader's own work (planning, frame copies
and float32 conversion, assembly, collation; for PyAV also the RGB conversion the limit skips).
With torch at one thread and at its default (one per core): a torch kernel in the loading path
starts torch's OpenMP threads, which then spin through the next codec calls, and that spinning
shows as CPU time here. Runs on the datasets `bench_reader.py` generates (run that once first).

    .venv/bin/python benchmarks/bench_reader_cpu.py [--sizes 240x320 480x640] [--batches 200]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent  # benchmarks/
sys.path.insert(0, str(HERE))
from bench_reader import DEFAULT_CACHE, SIZES, complete, delta_configs

MEASURE = textwrap.dedent(
    """
    import json, statistics, sys, time, torch
    cfg = json.loads(sys.argv[1])
    if cfg["torch_threads"]:
        torch.set_num_threads(cfg["torch_threads"])
    from lerobot_fn import data
    from lerobot_fn.data.read.frames import DecodeThreads
    from lerobot_fn.data.read.loader import collate
    sys.path.insert(0, sys.argv[2])  # benchmarks/, for codec_alone
    import codec_alone
    ds = data.open(cfg["root"], delta_timestamps=cfg["delta"], video_backend=cfg["backend"],
                   return_uint8=cfg["uint8"])
    ds._threads = DecodeThreads(1)
    gen, order = torch.Generator().manual_seed(0), []
    while len(order) < 8 * cfg["batches"]:  # a new shuffled epoch whenever one runs out
        order += torch.randperm(len(ds), generator=gen).tolist()
    order = order[:8 * cfg["batches"]]
    batches = [order[i:i + 8] for i in range(0, len(order), 8)]
    codec = codec_alone.Codec(cfg["backend"], ds.meta.fps)
    calls = codec_alone.by_batch(codec_alone.requests(ds, cfg["delta"], order), 8,
                                 cfg["backend"])

    def cpu_ms(fn, work):  # CPU (all threads of this process) a batch
        t0 = time.process_time()
        for w in work:
            fn(w)
        return (time.process_time() - t0) / len(work) * 1e3

    def read(b):
        collate(ds.__getitems__(b))

    cpu_ms(read, batches[:5]), cpu_ms(codec.decode_batch, calls[:5])  # warm: files open, buffers made
    reader, alone = [], []
    for _ in range(cfg["repeat"]):  # alternated, so a slower stretch of the machine hits both
        reader.append(cpu_ms(read, batches))
        alone.append(cpu_ms(codec.decode_batch, calls))
    print(json.dumps({"reader_ms": reader, "codec_ms": alone, "threads": torch.get_num_threads(),
                      "share": statistics.median(c / r for c, r in zip(alone, reader))}))
    """
)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE)
    p.add_argument("--sizes", nargs="+", default=["240x320"], choices=list(SIZES))
    p.add_argument("--configs", nargs="+", default=["act", "diffusion"])
    p.add_argument("--torch-threads", type=int, nargs="+", default=[1, 0], help="0: torch's default")
    p.add_argument("--batches", type=int, default=200)
    p.add_argument("--repeat", type=int, default=3, help="alternated reader and codec passes a setting")
    args = p.parse_args()
    print(
        "| size | config | reader | torch threads | reader CPU ms a batch (runs) "
        "| codec alone CPU ms a batch (runs) | codec / reader (median) |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for size in args.sizes:
        h, w = (int(v) for v in size.split("x"))
        episodes, frames = SIZES[size]
        root = args.cache_dir / f"reader_{episodes}x{frames}_{h}x{w}_30fps"
        if not complete(root, episodes, frames):
            sys.exit(f"no complete dataset at {root}: run benchmarks/bench_reader.py --sizes {size} first")
        for name in args.configs:
            delta = delta_configs(30)[name]
            for backend in ("pyav", "torchcodec"):
                for uint8 in (False, True):
                    for threads in args.torch_threads:
                        cfg = {
                            "root": str(root),
                            "delta": delta,
                            "backend": backend,
                            "uint8": uint8,
                            "batches": args.batches,
                            "repeat": args.repeat,
                            "torch_threads": threads,
                        }
                        out = subprocess.run(
                            [sys.executable, "-c", MEASURE, json.dumps(cfg), str(HERE)],
                            check=False,
                            capture_output=True,
                            text=True,
                        )
                        if out.returncode:
                            sys.exit(f"{size} {name} {backend}: the measurement failed:\n{out.stderr}")
                        r = json.loads(out.stdout.strip().splitlines()[-1])
                        reader = f"{backend} {'uint8' if uint8 else 'float32'}"
                        print(
                            f"| {size} | {name} | {reader} | {r['threads']} | "
                            f"{' / '.join(f'{v:.2f}' for v in r['reader_ms'])} | "
                            f"{' / '.join(f'{v:.2f}' for v in r['codec_ms'])} | {r['share']:.0%} |",
                            flush=True,
                        )


if __name__ == "__main__":
    main()
