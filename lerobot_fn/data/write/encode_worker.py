"""The video encoder process: raw uint8 HxWx3 frames on stdin -> one mp4 (run as a script).

Started by `encode.BackgroundEncoder` as `python encode_worker.py CONFIG_JSON`, so it imports
only numpy and PyAV (not the lerobot_fn package, not torch) and starts in a fraction of a
second. Encoding in its own process keeps PyAV and the codec off the recording process's GIL:
the control loop's `add_frame` never waits behind the encoder, and the process runs at a lower
priority (`nice`) so that on a small machine the control loop gets the CPU first and the
encoder catches up between frames and in `save_episode`. Besides the mp4 it writes the
downsampled frames kept for image stats (`stats_path`, .npz). On failure it exits 1 with a
last stderr line `ENCODER_ERROR {"errno": ..., "message": ...}`; on end of input (also when
the recording process dies) it closes the mp4 and exits.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path


def _by_path(relative: str):
    """A module of lerobot_fn.data loaded by its path relative to this folder (not through the
    lerobot_fn package, which imports torch)."""
    path = (Path(__file__).parent / relative).resolve()
    spec = importlib.util.spec_from_file_location(f"_lerobot_fn_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _read_exact(stream, view) -> int:
    got = 0
    while got < len(view):
        n = stream.readinto(view[got:])
        if not n:
            break
        got += n
    return got


def run(cfg: dict) -> None:
    import av
    import numpy as np

    stats = _by_path("../stats.py")
    kept_scheduling = _by_path("scheduling.py").kept_scheduling
    h, w, fps = cfg["height"], cfg["width"], cfg["fps"]
    budget = cfg["stats_budget"]
    container = av.open(cfg["path"], "w", format="mp4")
    try:
        stream = container.add_stream(cfg["vcodec"], fps, options=cfg["options"])
        stream.pix_fmt = cfg["pix_fmt"]
        stream.width, stream.height = w, h
        buf = bytearray(h * w * 3)
        view = memoryview(buf)
        frame = np.frombuffer(buf, dtype=np.uint8).reshape(h, w, 3)
        kept, stride, kept_bytes, index = [], 1, 0, 0
        stdin = sys.stdin.buffer
        while _read_exact(stdin, view) == len(buf):
            if index % stride == 0:
                small = np.ascontiguousarray(stats.downsample(frame.transpose(2, 0, 1)))
                kept.append(small)
                kept_bytes += small.nbytes
                if kept_bytes > budget:
                    kept, stride = kept[::2], stride * 2
                    kept_bytes = sum(k.nbytes for k in kept)
            vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
            vf.pts = index
            with kept_scheduling():  # libsvtav1 would make this process real-time, void of its nice
                packets = stream.encode(vf)
            for packet in packets:
                container.mux(packet)
            index += 1
        with kept_scheduling():
            packets = stream.encode()
        for packet in packets:
            container.mux(packet)
    finally:
        container.close()
    if kept:
        np.savez(cfg["stats_path"], frames=np.stack(kept), stride=stride, n=index)


def main() -> int:
    import os

    cfg = json.loads(sys.argv[1])
    try:
        os.nice(int(cfg.get("nice", 0)))  # below the recording process: the control loop comes first
    except OSError:
        pass
    try:
        run(cfg)
    except BaseException as e:  # noqa: BLE001 - reported to the parent through stderr
        errno = getattr(e, "errno", None)
        print(
            "ENCODER_ERROR " + json.dumps({"errno": errno, "message": f"{type(e).__name__}: {e}"}),
            file=sys.stderr,
            flush=True,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
