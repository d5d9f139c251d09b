"""A short summary of a dataset: what `dataset.info` prints."""

from __future__ import annotations

from pathlib import Path

from lerobot_fn.data.tools.source import Source


def dataset_info(root: str | Path) -> dict:
    """Episodes, frames, fps, duration, tasks, features (dtype, shape, codec) and files."""
    src = Source.open(root)
    lengths = [int(r["length"]) for r in src.rows]
    feats = {}
    for k, f in src.features.items():
        entry = {"dtype": f["dtype"], "shape": list(f.get("shape") or [])}
        if f["dtype"] == "video":
            entry["codec"] = (f.get("info") or {}).get("video.codec")
        feats[k] = entry
    files = sorted(
        str(p.relative_to(src.root))
        for p in src.root.rglob("*")
        if p.is_file() and not p.name.startswith(".")
    )
    return {
        "root": str(src.root),
        "codebase_version": src.info["codebase_version"],
        "robot_type": src.info.get("robot_type"),
        "fps": src.fps,
        "episodes": len(lengths),
        "frames": sum(lengths),
        "duration_s": round(sum(lengths) / src.fps, 3),
        "episode_length": {
            "min": min(lengths),
            "max": max(lengths),
            "mean": round(sum(lengths) / len(lengths), 2),
        },
        "tasks": src.tasks,
        "features": feats,
        "files": len(files),
        "size_mb": round(sum((src.root / f).stat().st_size for f in files) / 1024**2, 3),
    }
