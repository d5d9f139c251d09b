"""Parquet columns -> tensors with LeRobot's item dtypes, and inline image cells -> uint8 CHW."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import torch

from lerobot_fn.data.errors import DatasetError, DatasetFileError
from lerobot_fn.data.features import Feature


def _torch_dtype(feature: Feature) -> torch.dtype:
    """LeRobot's item dtypes: every float becomes float32, every integer int64, bool stays bool."""
    if feature.dtype == "bool":
        return torch.bool
    if feature.dtype.startswith("float"):
        return torch.float32
    if feature.dtype.startswith(("int", "uint")):
        return torch.int64
    raise DatasetError(f"unsupported feature dtype {feature.dtype!r}")


def _is_numeric(feature: Feature) -> bool:
    return feature.dtype == "bool" or feature.dtype.startswith(("float", "int", "uint"))


def column_to_numpy(column: pa.ChunkedArray, shape: tuple[int, ...], name: str, path: str) -> np.ndarray:
    """A parquet column of fixed-size lists / scalars -> numpy (N, *shape) (shape (1,) -> (N,))."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    n = len(arr)
    while (
        pa.types.is_fixed_size_list(arr.type)
        or pa.types.is_list(arr.type)
        or pa.types.is_large_list(arr.type)
    ):
        arr = arr.flatten()
    if arr.null_count:
        raise DatasetFileError(f"{path}: column {name!r} holds null values")
    values = arr.to_numpy(zero_copy_only=False)
    target = (n,) if tuple(shape) in ((1,), ()) else (n, *shape)
    if values.size != int(np.prod(target)):
        raise DatasetFileError(
            f"{path}: column {name!r} has {values.size} values for {n} frames, expected shape {tuple(shape)}"
        )
    return values.reshape(target)


def decode_image(cell: dict, root: Path, name: str) -> torch.Tensor:
    """One inline image cell ({bytes, path}) -> uint8 (C, H, W) with the file's own channels."""
    from PIL import Image

    data = cell.get("bytes")
    if data is None:
        if not cell.get("path"):
            raise DatasetFileError(f"image {name!r}: cell has neither bytes nor path")
        path = Path(cell["path"])
        path = path if path.is_absolute() else root / path
        if not path.is_file():
            raise DatasetFileError(f"image {name!r}: missing file {path}")
        data = path.read_bytes()
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except Exception as e:
        raise DatasetFileError(f"image {name!r}: cannot decode ({e})") from e
    if img.mode not in ("RGB", "L", "RGBA"):
        img = img.convert("RGB")
    arr = np.asarray(img)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return torch.from_numpy(arr.copy()).permute(2, 0, 1)
