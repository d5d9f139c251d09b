"""The parquet tables of a LeRobotDataset v3.0, built the way LeRobot 0.6.1 writes them.

- frames (data/chunk-*/file-*.parquet): one column per non-video feature; shape (1,) ->
  scalar column, (n,) -> fixed_size_list<element>[n], images -> struct<bytes, path> (PNG);
  the schema carries the `huggingface` metadata that `datasets` reads.
- episodes (meta/episodes/chunk-*/file-*.parquet): one row per episode.
- tasks (meta/tasks.parquet): `task_index` column, `task` as the pandas index.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import numpy as np
import pyarrow as pa

from lerobot_fn.data.features import Feature

#: LeRobot's automatic per-frame features, in its order.
DEFAULT_FEATURES = {
    "timestamp": Feature(dtype="float32", shape=(1,), names=None),
    "frame_index": Feature(dtype="int64", shape=(1,), names=None),
    "episode_index": Feature(dtype="int64", shape=(1,), names=None),
    "index": Feature(dtype="int64", shape=(1,), names=None),
    "task_index": Feature(dtype="int64", shape=(1,), names=None),
}

_ARROW = {
    "bool": pa.bool_(),
    "int8": pa.int8(),
    "int16": pa.int16(),
    "int32": pa.int32(),
    "int64": pa.int64(),
    "uint8": pa.uint8(),
    "uint16": pa.uint16(),
    "uint32": pa.uint32(),
    "uint64": pa.uint64(),
    "float16": pa.float16(),
    "float32": pa.float32(),
    "float64": pa.float64(),
    "string": pa.string(),
}

IMAGE_TYPE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])


def _check(name: str, feat: Feature) -> None:
    if feat.dtype in ("video", "image"):
        return
    if feat.dtype not in _ARROW:
        raise ValueError(f"feature {name!r}: unsupported dtype {feat.dtype!r} (supported: {sorted(_ARROW)})")
    if len(feat.shape) != 1:
        raise ValueError(
            f"feature {name!r}: shape {feat.shape} not supported by this writer; use a flat shape (n,)"
        )


def arrow_type(name: str, feat: Feature) -> pa.DataType | None:
    """The data-file column type of a feature (None for videos, which live in mp4 files)."""
    _check(name, feat)
    if feat.dtype == "video":
        return None
    if feat.dtype == "image":
        return IMAGE_TYPE
    if tuple(feat.shape) == (1,):
        return _ARROW[feat.dtype]
    return pa.list_(pa.field("element", _ARROW[feat.dtype]), feat.shape[0])


def hf_feature(name: str, feat: Feature) -> dict:
    """The `datasets` Features json of one column."""
    if feat.dtype == "image":
        return {"_type": "Image"}
    if tuple(feat.shape) == (1,):
        return {"dtype": feat.dtype, "_type": "Value"}
    return {"feature": {"dtype": feat.dtype, "_type": "Value"}, "length": feat.shape[0], "_type": "List"}


def frames_schema(features: Mapping[str, Feature]) -> pa.Schema:
    """Arrow schema (with `huggingface` metadata) of the data files for these features."""
    cols = {k: f for k, f in features.items() if f.dtype != "video"}
    meta = {"info": {"features": {k: hf_feature(k, f) for k, f in cols.items()}}}
    return pa.schema(
        [pa.field(k, arrow_type(k, f)) for k, f in cols.items()],
        metadata={"huggingface": json.dumps(meta)},
    )


def frames_table(columns: Mapping[str, object], features: Mapping[str, Feature]) -> pa.Table:
    """Episode columns {name: (N, ...) array or list of image dicts} -> a data-file table."""
    schema = frames_schema(features)
    arrays = []
    for field in schema:
        values = columns[field.name]
        if pa.types.is_fixed_size_list(field.type):
            flat = np.ascontiguousarray(values).reshape(-1)
            arrays.append(
                pa.FixedSizeListArray.from_arrays(pa.array(flat, type=field.type.value_type), type=field.type)
            )
        elif pa.types.is_struct(field.type) or pa.types.is_string(field.type):
            arrays.append(pa.array(list(values), type=field.type))
        else:
            arrays.append(pa.array(np.asarray(values).reshape(-1), type=field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def episodes_table(rows: Sequence[Mapping]) -> pa.Table:
    """Episode metadata rows (python values) -> an episodes-file table (types inferred as LeRobot)."""
    return pa.Table.from_pylist([dict(r) for r in rows])


def tasks_table(tasks: Sequence[str]) -> pa.Table:
    """meta/tasks.parquet: `task_index` and the `task` index column, with pandas metadata."""
    import pandas as pd

    df = pd.DataFrame(
        {"task_index": np.arange(len(tasks), dtype=np.int64)}, index=pd.Index(list(tasks), name="task")
    )
    table = pa.Table.from_pandas(df)
    schema = pa.schema(
        [pa.field(f.name, pa.string() if f.name == "task" else f.type) for f in table.schema],
        metadata=table.schema.metadata,
    )
    return table.cast(schema)


def json_safe(value):
    """numpy scalars/arrays -> python values (for episodes rows and json)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value
