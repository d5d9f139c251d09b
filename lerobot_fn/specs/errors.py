"""Errors a run can end with, each mapped to an exit status by the CLI.

`SpecError` (exit 2): the spec or the command line is wrong; the message names the file, the TOML
path, what was expected and what was found. `JobError` (exit 1): the job ran and failed; the
message is one paragraph saying what failed, where, and what to do.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

import attrs


@attrs.frozen
class SpecIssue:
    """One problem at one TOML path (`policy.chunk_size`; empty for the whole document)."""

    path: str
    message: str
    source: str | None = None
    """Where the value came from when not the spec file itself (`--set train.steps=x`)."""

    def render(self, source: str) -> str:
        source = self.source or source
        where = f"{source} at {self.path}" if self.path else source
        return f"{where}: {self.message}"


class SpecError(Exception):
    """A spec that cannot be used as written. Rendered without a traceback."""

    def __init__(self, source: str, issues: Iterable[SpecIssue]):
        self.source = source
        self.issues = tuple(issues)
        super().__init__(self.render())

    def render(self) -> str:
        lines = [issue.render(self.source) for issue in self.issues]
        if len(lines) == 1:
            return f"spec error in {lines[0]}"
        return "spec errors:\n" + "\n".join(f"  - {line}" for line in lines)


class JobError(Exception):
    """A runtime failure a user can act on: what failed, where, what to do."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`"; did you mean 'chunk_size'?"` when a close match exists, else `""`."""
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{match[0]}'?" if match else ""
