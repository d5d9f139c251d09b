"""Job specs: one TOML file = one run. Typed attrs schemas, one cattrs converter, a job registry.

    loaded = load_spec("specs/quickstart.toml", overrides=["run.seed=3"])
    print(dump_spec(loaded.job, loaded.spec))
"""

from .context import RunContext
from .converter import structure, unstructure
from .errors import JobError, SpecError, SpecIssue
from .explain import explain, list_jobs
from .registry import JOBS, Job, get_job
from .schema import RunOptions, spec_field
from .toml_io import LoadedSpec, apply_overrides, dump_spec, load_spec, parse_override, read_toml, resolve

__all__ = [
    "JOBS", "Job", "JobError", "LoadedSpec", "RunContext", "RunOptions", "SpecError", "SpecIssue",
    "apply_overrides", "dump_spec", "explain", "get_job", "list_jobs", "load_spec",
    "parse_override", "read_toml", "resolve", "spec_field", "structure", "unstructure",
]
