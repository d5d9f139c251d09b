"""Human-readable listings for `lerobot-run --list` and `--explain JOB`."""

from __future__ import annotations

import typing

import attrs

from .paths import NOTES
from .registry import JOBS, get_job
from .schema import field_doc


def list_jobs() -> str:
    width = max(len(name) for name in JOBS)
    return "\n".join(f"{name:<{width}}  {JOBS[name].summary}" for name in sorted(JOBS))


def _type_text(tp: typing.Any) -> str:
    text = getattr(tp, "__name__", None) if isinstance(tp, type) else None
    return text or str(tp).replace("typing.", "")


def _default_text(field: attrs.Attribute) -> str:
    default = field.default
    if default is attrs.NOTHING:
        return "required"
    if isinstance(default, attrs.Factory):
        default = default.factory()
    if attrs.has(type(default)):
        return "(table)"
    if hasattr(default, "value"):
        default = default.value
    return f"default {default!r}"


def _rows(cls: type, prefix: str) -> list[str]:
    attrs.resolve_types(cls)
    rows = []
    for field in attrs.fields(cls):
        path = f"{prefix}{field.name}"
        tp = field.type
        if isinstance(tp, type) and attrs.has(tp):
            rows.append(f"[{path}]  {field_doc(field)}")
            rows.extend(_rows(tp, f"{path}."))
        else:
            note = NOTES.get(field.metadata.get("path"))
            doc = f"{field_doc(field)} ({note})" if note else field_doc(field)
            rows.append(f"{path}: {_type_text(tp)}, {_default_text(field)}\n    {doc}")
    return rows


def explain(job_name: str) -> str:
    """Every key of the job's schema with its type, default and docstring."""
    job = get_job(job_name)
    cls = job.schema_class()
    head = f"job = \"{job.name}\": {job.summary}\n{(cls.__doc__ or '').strip()}\n"
    return head + "\n" + "\n".join(_rows(cls, "")) + "\n"

