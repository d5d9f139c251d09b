"""The job registry: job name -> schema class and run function, named by lazy "module:attr" strings
so that listing jobs imports nothing heavy (no torch, no serial or camera code)."""

from __future__ import annotations

import importlib
from typing import Any, Callable

import attrs

from .errors import SpecError, SpecIssue, did_you_mean


def _import(target: str) -> Any:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


@attrs.frozen
class Job:
    """A registered job: `name` as written in `job = "..."`, its schema and run function."""

    name: str
    schema: str
    run: str
    summary: str

    def schema_class(self) -> type:
        return _import(self.schema)

    def run_function(self) -> Callable[..., Any]:
        return _import(self.run)


def _jobs(*jobs: Job) -> dict[str, Job]:
    return {job.name: job for job in jobs}


JOBS: dict[str, Job] = _jobs(
    Job(
        "quickstart",
        "lerobot_fn.specs.quickstart:QuickstartSpec",
        "lerobot_fn.jobs.quickstart:quickstart",
        "offline first run: write a small sample dataset, read it back, summarise it",
    ),
)


def get_job(name: str, source: str = "lerobot-run") -> Job:
    """The job called `name`, or a `SpecError` with the known names and a did-you-mean."""
    try:
        return JOBS[name]
    except KeyError:
        hint = did_you_mean(name, JOBS) or f"; known jobs: {', '.join(sorted(JOBS))}"
        raise SpecError(source, [SpecIssue("job", f"unknown job '{name}'{hint}")]) from None
