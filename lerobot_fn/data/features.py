"""Typed dataset features: one `Feature` per entry of info.json's `features` dict.

A feature is described exactly as LeRobot writes it (dtype, shape, names, optional `info`);
`parse_features` / `dump_features` round-trip that dict unchanged so files we write are
byte-compatible and files LeRobot writes load without loss.
"""

from __future__ import annotations

from typing import Any

from attrs import field, frozen

from lerobot_fn.process.keys import nested_key  # noqa: F401  (re-exported: data speaks the same keys)

VIDEO = "video"
IMAGE = "image"
STRING = "string"

#: Columns LeRobot adds to every frame, in LeRobot's order.
DEFAULT_FEATURE_NAMES = ("timestamp", "frame_index", "episode_index", "index", "task_index")

#: dtypes stored as plain parquet columns (images and videos are handled apart).
NUMERIC_DTYPES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")


def _as_shape(value: Any) -> tuple[int, ...]:
    if value is None:
        return ()
    return tuple(int(v) for v in value)


@frozen(eq=True, hash=False)
class Feature:
    """One dataset feature as in info.json: `dtype`, `shape`, `names`, and for videos `info`.

    `extra` keeps any other key of the json entry (e.g. `fps` in older files) so dumping
    gives back what was read.
    """

    dtype: str
    shape: tuple[int, ...] = field(converter=_as_shape)
    names: Any = None
    info: dict | None = None
    extra: dict = field(factory=dict)

    @classmethod
    def from_dict(cls, entry: dict, *, key: str = "?") -> Feature:
        """Parse one info.json feature entry; `key` only names the feature in errors."""
        if not isinstance(entry, dict) or "dtype" not in entry:
            raise ValueError(f"feature {key!r}: expected a dict with 'dtype' and 'shape', got {entry!r}")
        known = {"dtype", "shape", "names", "info"}
        return cls(
            dtype=str(entry["dtype"]),
            shape=entry.get("shape"),
            names=entry.get("names"),
            info=entry.get("info"),
            extra={k: v for k, v in entry.items() if k not in known},
        )

    def to_dict(self) -> dict:
        """The info.json entry: dtype, shape (list), names, then info/extra keys when present."""
        out: dict = {"dtype": self.dtype, "shape": list(self.shape), "names": self.names}
        if self.info is not None:
            out["info"] = self.info
        out.update(self.extra)
        return out

    @property
    def is_video(self) -> bool:
        return self.dtype == VIDEO

    @property
    def is_image(self) -> bool:
        """An image stored inline in the parquet files (PNG bytes)."""
        return self.dtype == IMAGE

    @property
    def is_visual(self) -> bool:
        """A camera feature: video or inline image."""
        return self.dtype in (VIDEO, IMAGE)

    @property
    def is_depth(self) -> bool:
        return bool((self.info or {}).get("is_depth_map", False))

    @property
    def codec(self) -> str | None:
        """The video codec recorded in `info` (`video.codec`), if any."""
        return (self.info or {}).get("video.codec")


def parse_features(features: dict) -> dict[str, Feature]:
    """info.json `features` dict -> {name: Feature}, keeping order."""
    if not isinstance(features, dict):
        raise ValueError(f"info.json 'features' must be a dict, got {type(features).__name__}")
    return {name: Feature.from_dict(entry, key=name) for name, entry in features.items()}


def dump_features(features: dict[str, Feature]) -> dict:
    """{name: Feature} -> info.json `features` dict (the inverse of `parse_features`)."""
    return {name: feat.to_dict() for name, feat in features.items()}
