"""`lerobot-run`: command line -> spec -> job, with clear errors and stable exit codes.

Exit codes: 0 success; 2 spec or usage error (no traceback); 1 runtime failure (one paragraph,
`--debug` adds the traceback); 130 after Ctrl-C (SIGINT) and 143 after SIGTERM, once the job has
shut down cleanly.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from pathlib import Path

from .run_dir import FILE_ONLY, default_run_dir, open_run, write_result
from .specs import JobError, RunContext, SpecError, dump_spec, explain, list_jobs, load_spec
from .specs.toml_io import load_raw, resolve

EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so every `with` block and `finally` of the job cleans up."""


def _raise_terminated(signum, frame):
    raise Terminated


@contextlib.contextmanager
def signal_handlers() -> Iterator[None]:
    """Own SIGINT and SIGTERM whatever the parent left us; restore the previous handlers after.

    A child of a non-interactive shell's background job (CI, schedulers, `lerobot-run ... &`)
    inherits SIGINT as *ignored*, so Python's KeyboardInterrupt would never fire; and SIGTERM's
    default kills the process without running any cleanup (a `.staging` folder left behind).
    """
    if threading.current_thread() is not threading.main_thread():  # only the main thread may
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="lerobot-run",
        description="Run a lerobot-fn job described by a TOML spec file.",
        epilog="Examples: lerobot-run specs/quickstart.toml --set run.seed=3 | lerobot-run --list | "
        "lerobot-run --explain quickstart",
    )
    p.add_argument("spec", nargs="?", help="spec file (TOML) to run")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a spec key; VALUE is parsed as TOML (repeatable)")
    p.add_argument("--dry-run", action="store_true", help="validate and print the resolved spec; run nothing")
    p.add_argument("--debug", action="store_true", help="show the Python traceback of a runtime failure")
    p.add_argument("--list", action="store_true", help="list the jobs, one line each")
    p.add_argument("--explain", metavar="JOB", help="print every key of JOB's spec with type, default and doc")
    p.add_argument("--resume", metavar="RUN_DIR", help="run again from a run directory's spec.toml, into it")
    return p


def _load(args: argparse.Namespace):
    if args.resume:
        run_dir = Path(args.resume)
        spec_file = run_dir / "spec.toml"
        raw = load_raw(spec_file, args.overrides)
        run_table = raw.setdefault("run", {})
        if isinstance(run_table, dict):
            run_table["output_dir"] = str(run_dir)
        return resolve(raw, str(spec_file), args.overrides)
    return load_spec(args.spec, args.overrides)


def main(argv: list[str] | None = None) -> int:
    try:
        with signal_handlers():
            code = _main(argv)
            sys.stdout.flush()  # inside the try: a closed pipe is reported here, not at interpreter exit
            return code
    except KeyboardInterrupt as exc:  # a signal before the job started (or after it ended): quiet exit
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    except BrokenPipeError:  # `lerobot-run --list | head`: the reader left; stop writing, no traceback
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE


def _main(argv: list[str] | None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.list:
            print(list_jobs())
            return EXIT_OK
        if args.explain:
            print(explain(args.explain), end="")
            return EXIT_OK
        if not args.spec and not args.resume:
            _parser().print_usage(sys.stderr)
            print("lerobot-run: give a spec file, --resume RUN_DIR, --list or --explain JOB", file=sys.stderr)
            return EXIT_USAGE
        loaded = _load(args)
    except SpecError as exc:
        print(exc.render(), file=sys.stderr)
        return EXIT_USAGE

    spec_toml = dump_spec(loaded.job, loaded.spec)
    if args.dry_run:
        print(spec_toml, end="")
        return EXIT_OK
    return _run(loaded, spec_toml, args)


def _run(loaded, spec_toml: str, args: argparse.Namespace) -> int:
    from .specs.registry import get_job

    options = getattr(loaded.spec, "run", None)
    explicit = bool(options and options.output_dir)
    out_dir = Path(options.output_dir) if explicit else default_run_dir(loaded.job)
    seed = getattr(options, "seed", None)
    if seed is None:  # a job whose seed lives in its own table (train.seed)
        seed = getattr(getattr(loaded.spec, "train", None), "seed", 0)
    try:
        run = get_job(loaded.job).run_function()
    except ImportError as exc:  # a job whose optional extra is not installed
        print(f"lerobot-run: job '{loaded.job}' cannot start: {exc}. Install the extra it needs, "
              "e.g. pip install 'lerobot-fn[hardware]'.", file=sys.stderr)
        return EXIT_FAILURE
    with contextlib.ExitStack() as run_dir:
        try:
            if _rank():  # torchrun: the run directory belongs to rank 0; the others only log to stderr
                ctx = RunContext(out_dir=out_dir, seed=seed, log=_rank_logger(loaded.job), resume=bool(args.resume))
            else:
                ctx = run_dir.enter_context(open_run(out_dir, job=loaded.job, spec_toml=spec_toml, seed=seed,
                                                     resume=bool(args.resume), unique=not explicit))
                out_dir = ctx.out_dir
        except OSError as exc:
            print(f"lerobot-run: cannot create the run directory {out_dir}: {exc.strerror or exc}. "
                  "Choose another with --set run.output_dir=PATH.", file=sys.stderr)
            return EXIT_FAILURE
        return _run_job(run, loaded, ctx, args)


def _run_job(run, loaded, ctx: RunContext, args: argparse.Namespace) -> int:
    """Run the job in its run directory; the exit code for how it ended (DESIGN.md "Specs and the CLI")."""
    out_dir = ctx.out_dir
    try:
        result = run(loaded.spec, ctx)
        if not _rank():
            write_result(ctx, result)
        ctx.log.info("done; outputs in %s", out_dir)
        return EXIT_OK
    except KeyboardInterrupt as exc:
        terminated = isinstance(exc, Terminated)
        ctx.log.warning("%s; the job shut down cleanly; outputs so far are in %s",
                        "terminated (SIGTERM)" if terminated else "interrupted", out_dir)
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    except SpecError as exc:
        ctx.log.error("%s", exc.render())
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - the CLI's one place that turns failures into a paragraph
        what = str(exc) if isinstance(exc, JobError) else f"{type(exc).__name__}: {exc}"
        # everything said on the terminal is in log.txt too; the log always keeps the traceback
        ctx.log.error("lerobot-run: job '%s' failed. %s\nRun directory: %s (log.txt). %s", loaded.job, what,
                      out_dir, "" if args.debug else "Re-run with --debug to see the traceback.")
        ctx.log.error("%s", traceback.format_exc().rstrip(), extra=None if args.debug else FILE_ONLY)
        return EXIT_FAILURE


def _rank() -> int:
    """This process's rank under torchrun (0 otherwise)."""
    return int(os.environ.get("RANK", "0"))


def _rank_logger(job: str) -> logging.Logger:
    log = logging.getLogger(f"lerobot_fn.run.{job}.rank{_rank()}")
    log.setLevel(logging.WARNING)  # rank 0 reports progress; the others only what goes wrong
    log.propagate = False
    if not log.handlers:
        log.addHandler(logging.StreamHandler(sys.stderr))
    return log


if __name__ == "__main__":
    sys.exit(main())
