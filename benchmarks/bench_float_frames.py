"""What float32 frames cost over uint8 in memory writes alone: a batch of 16 decoded HWC frames
deinterleaved into reused (16, 3, H, W) batch buffers, as the torchcodec reader does, in 1 and 2
processes at once (one per core). Variants: uint8 planes (cv2.split), the float32 write alone
(`copy_`, not /255), and the bit-exact x / 255 done whole-frame (the reader's numpy, and torch), plane by plane,
in row chunks (torch, numpy). Prints the median ms a frame.

    .venv/bin/python benchmarks/bench_float_frames.py [HEIGHT WIDTH]
"""

import multiprocessing as mp
import sys
import time

import cv2
import numpy as np
import torch

from lerobot_fn.data.video import _convert

N = 16  # frames a batch (8 items x 2 cameras)


def per_plane(planes, out):
    src = torch.from_numpy(planes)
    for c in range(3):
        out[c].copy_(src[c])
        out[c].div_(255)


def chunked(planes, out, rows=64):
    src, dst = torch.from_numpy(planes).flatten(0, 1), out.flatten(0, 1)
    for r in range(0, len(src), rows):
        dst[r : r + rows].copy_(src[r : r + rows])
        dst[r : r + rows].div_(255)


def chunked_numpy(planes, out, rows=64):
    src, dst = planes.reshape(-1, planes.shape[-1]), out.numpy().reshape(-1, planes.shape[-1])
    for r in range(0, len(src), rows):
        np.copyto(dst[r : r + rows], src[r : r + rows])
        np.divide(dst[r : r + rows], np.float32(255), out=dst[r : r + rows])


def write_only(planes, out):
    out.copy_(torch.from_numpy(planes))


VARIANTS = {
    "float32 write only": write_only,
    "whole frame (the reader's own, numpy)": lambda planes, out: _convert(planes, out.numpy()),
    "whole frame (torch)": lambda planes, out: (out.copy_(torch.from_numpy(planes)), out.div_(255)),
    "per plane": per_plane,
    "row chunks": chunked,
    "row chunks numpy": chunked_numpy,
}


def run(h, w, name, q):
    torch.set_num_threads(1)
    src = np.random.default_rng(0).integers(0, 256, (N, h, w, 3), dtype=np.uint8)
    dtype = torch.uint8 if name == "uint8" else torch.float32
    buffers = [torch.empty((N, 3, h, w), dtype=dtype) for _ in range(3)]  # rotated, like the pool
    planes = np.empty((3, h, w), np.uint8)
    times = []
    for it in range(40):
        out = buffers[it % 3]
        t0 = time.perf_counter()
        for i in range(N):
            if name == "uint8":
                cv2.split(src[i], list(out[i].numpy()))
            else:
                cv2.split(src[i], list(planes))
                VARIANTS[name](planes, out[i])
        times.append(time.perf_counter() - t0)
    if name not in ("uint8", "float32 write only"):
        assert torch.equal(out[-1], torch.from_numpy(src[-1].transpose(2, 0, 1).copy()).float() / 255)
    q.put(sorted(times[5:])[len(times[5:]) // 2] / N * 1e3)


def main():
    h, w = (int(v) for v in sys.argv[1:3]) if len(sys.argv) > 2 else (480, 640)
    for procs in (1, 2):
        for name in ["uint8", *VARIANTS]:
            q = mp.Queue()
            ps = [mp.Process(target=run, args=(h, w, name, q)) for _ in range(procs)]
            for p in ps:
                p.start()
            res = [q.get(timeout=120) for _ in ps]
            for p in ps:
                p.join()
            print(f"| {h}x{w} | {procs} | {name} | {' / '.join(f'{v:.3f}' for v in res)} |", flush=True)


if __name__ == "__main__":
    main()
