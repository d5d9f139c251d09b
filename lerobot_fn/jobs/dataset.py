"""The `dataset.*` jobs: each calls one tool of lerobot_fn.data.tools and reports what it wrote."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

from lerobot_fn.specs import RunContext
from lerobot_fn.specs import dataset as S
from lerobot_fn.specs.errors import JobError


@contextlib.contextmanager
def _as_job_error(what: str) -> Iterator[None]:
    """Dataset problems (bad input, missing files, full disk) become one-paragraph JobErrors."""
    from lerobot_fn.data.errors import DatasetError

    try:
        yield
    except (DatasetError, ValueError, FileExistsError, FileNotFoundError, IndexError, OSError) as e:
        raise JobError(f"{what} failed: {e}") from e


def _output(output: str, ctx: RunContext) -> Path:
    return Path(output) if output else ctx.out_dir / "dataset"


def _summary(root: Path) -> dict:
    from lerobot_fn.data.tools import dataset_info

    info = dataset_info(root)
    return {k: info[k] for k in ("root", "episodes", "frames", "fps", "tasks")}


def info(spec: S.InfoSpec, ctx: RunContext) -> dict:
    from lerobot_fn.data import verify
    from lerobot_fn.data.tools import dataset_info

    with _as_job_error(f"dataset.info of {spec.dataset}"):
        result = dataset_info(spec.dataset)
    ctx.log.info("%s", json.dumps(result, indent=2))
    if not spec.check:
        return result
    problems = verify(result["root"])
    for problem in problems:
        ctx.log.error("broken file %s", problem)
    if problems:
        raise JobError(
            f"dataset.info: {len(problems)} broken file(s) in {result['root']}:\n"
            + "\n".join(f"  {p}" for p in problems)
            + "\nRe-download or re-record them (check = false skips this check)."
        )
    ctx.log.info("check: every data and video file of %s reads", result["root"])
    return {**result, "checked": True}


def delete_episodes(spec: S.DeleteEpisodesSpec, ctx: RunContext) -> dict:
    from lerobot_fn.data.tools import delete_episodes as run

    with _as_job_error(f"deleting episodes {spec.episodes} from {spec.dataset}"):
        out = run(spec.dataset, list(spec.episodes), _output(spec.output, ctx))
    ctx.log.info("wrote %s", out)
    return _summary(out)


def split(spec: S.SplitSpec, ctx: RunContext) -> dict:
    from lerobot_fn.data.tools import split as run

    if bool(spec.fractions) == bool(spec.episodes):
        raise JobError(
            "dataset.split needs exactly one of `fractions` or `episodes` (e.g. fractions = "
            "{train = 0.8, val = 0.2}); the spec gives " + ("both" if spec.fractions else "neither")
        )
    with _as_job_error(f"splitting {spec.dataset}"):
        outs = run(
            spec.dataset,
            Path(spec.output_dir) if spec.output_dir else ctx.out_dir,
            dict(spec.fractions) or {k: list(v) for k, v in spec.episodes.items()},
        )
    return {name: _summary(path) for name, path in outs.items()}


def merge(spec: S.MergeSpec, ctx: RunContext) -> dict:
    from lerobot_fn.data.tools import merge as run

    with _as_job_error(f"merging {list(spec.datasets)}"):
        out = run(list(spec.datasets), _output(spec.output, ctx))
    return _summary(out)


def add_feature(spec: S.AddFeatureSpec, ctx: RunContext) -> dict:
    import numpy as np

    from lerobot_fn.data.tools import add_feature as run

    with _as_job_error(f"adding feature {spec.name!r} to {spec.dataset}"):
        values = np.load(spec.values)
        feature = {"dtype": spec.dtype, "shape": list(spec.shape), "names": list(spec.names) or None}
        out = run(spec.dataset, _output(spec.output, ctx), spec.name, feature, values)
    return _summary(out)


def remove_feature(spec: S.RemoveFeatureSpec, ctx: RunContext) -> dict:
    from lerobot_fn.data.tools import remove_feature as run

    with _as_job_error(f"removing {list(spec.features)} from {spec.dataset}"):
        out = run(spec.dataset, _output(spec.output, ctx), list(spec.features))
    return _summary(out)


def images_to_video(spec: S.ImagesToVideoSpec, ctx: RunContext) -> dict:
    from lerobot_fn.data.tools import images_to_video as run
    from lerobot_fn.data.write.encode import VideoEncoding

    if spec.vcodec == "libsvtav1":
        encoding = VideoEncoding.av1(crf=spec.crf)
    elif spec.vcodec == "libx264":
        encoding = VideoEncoding.h264(crf=spec.crf)
    elif spec.vcodec == "libx264rgb":
        encoding = VideoEncoding.lossless()
    else:
        raise JobError(
            f"dataset.images_to_video: unknown vcodec {spec.vcodec!r}; use libsvtav1, libx264 or libx264rgb"
        )
    with _as_job_error(f"converting images of {spec.dataset} to video"):
        out = run(spec.dataset, _output(spec.output, ctx), keys=list(spec.keys) or None, encoding=encoding)
    return _summary(out)


def recompute_stats(spec: S.RecomputeStatsSpec, ctx: RunContext) -> dict:
    from lerobot_fn.data.tools import recompute_stats as run

    with _as_job_error(f"recomputing the stats of {spec.dataset}"):
        out = run(spec.dataset, None if spec.in_place else _output(spec.output, ctx))
    return _summary(out)


def convert_v21(spec: S.ConvertV21Spec, ctx: RunContext) -> dict:
    from lerobot_fn.data.tools import convert_v21 as run

    with _as_job_error(f"converting {spec.dataset} from v2.1 to v3.0"):
        out = run(spec.dataset, _output(spec.output, ctx))
    return _summary(out)


def push(spec: S.PushSpec, ctx: RunContext) -> dict:
    from lerobot_fn.data.push import push as run

    with _as_job_error(f"pushing {spec.dataset} to the Hub as {spec.repo_id}"):
        try:
            url = run(
                spec.dataset,
                spec.repo_id,
                private=spec.private,
                branch=spec.branch or None,
                license=spec.license,
                tags=list(spec.tags),
            )
        except Exception as e:  # huggingface_hub errors: network, auth, ...
            from lerobot_fn.data.errors import DatasetError

            if isinstance(e, (DatasetError, ValueError, OSError)):
                raise
            raise JobError(
                f"pushing {spec.dataset} to {spec.repo_id} failed: {e} (check `huggingface-cli login` "
                "and your network)"
            ) from e
    return {"repo_id": spec.repo_id, "commit_url": url}
