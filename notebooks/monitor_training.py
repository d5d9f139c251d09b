"""Monitor a training run directory: curves re-read as metrics.jsonl grows, eval success,
checkpoints, the resolved spec, and a button to resume.

marimo run notebooks/monitor_training.py                            # a small sample run (generated once)
marimo run notebooks/monitor_training.py -- --run outputs/train/RUN  # a run of lerobot-run
... -- --run RUN --refresh 5s                                        # how often to re-read (default 2s)
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Monitor a training run")


@app.cell
def _():
    from pathlib import Path

    import marimo as mo

    from lerobot_fn import runs, viz

    return Path, mo, runs, viz


@app.cell
def _(Path, mo, runs):
    run_dir = Path(mo.cli_args().get("run") or runs.sample_run())
    spec_text, spec = runs.read_spec(run_dir)
    tail = runs.MetricsTail(run_dir)
    refresh = mo.ui.refresh(
        options=["1s", "2s", "5s", "10s", "30s"],
        default_interval=str(mo.cli_args().get("refresh") or "2s"),
        label="re-read metrics.jsonl every",
    )
    get_records, set_records = mo.state(list(tail.read()))
    return get_records, refresh, run_dir, set_records, spec, spec_text, tail


@app.cell
def _(get_records, mo, refresh, run_dir, runs, set_records, tail):
    refresh.value  # re-run this cell at every tick
    _new = tail.read()
    if len(_new) != len(get_records()) or (_new and _new[-1] is not get_records()[-1]):
        set_records(list(_new))  # the plots below redraw only when metrics.jsonl changed
    _summary = runs.run_summary(run_dir, _new)
    _state = "finished" if _summary["finished"] else f"last line {_summary['idle_s']} s ago"
    _loss = f"{_summary['loss']:.4g}" if isinstance(_summary["loss"], (int, float)) else "n/a"
    mo.vstack(
        [
            mo.md(
                f"""
                # Training run `{_summary["run_dir"]}`

                `{_summary["policy"]}` on `{_summary["dataset"]}` · started {_summary["started"]} ·
                **step {_summary["step"]} / {_summary["steps"]}** · loss **{_loss}** · {_state}
                """
            ),
            refresh,
        ]
    )
    return


@app.cell
def _(get_records):
    records = get_records()
    return (records,)


@app.cell
def _(mo, records, runs, viz):
    _panels, _labels = runs.train_panels(records)
    _out = mo.md("No metrics yet: metrics.jsonl is empty.")
    if records:
        _out = mo.image(
            viz.png_bytes(viz.curves(_panels, labels=_labels, xlabel="step", panel_height=1.6)),
            alt="training curves",
        )
    mo.vstack([mo.md("## Training"), _out])
    return


@app.cell
def _(mo, records, runs, viz):
    _evals = runs.eval_columns(records)
    _out = mo.md(
        "No evaluation in this run yet (`train.eval_every`); "
        "a line with an `eval` table in metrics.jsonl shows up here."
    )
    if _evals:
        _steps = _evals.pop("step")
        _out = mo.image(
            viz.png_bytes(
                viz.curves({k: (_steps, v) for k, v in _evals.items()}, xlabel="step", panel_height=1.6)
            ),
            alt="evaluation curves",
        )
    mo.vstack([mo.md("## Evaluation"), _out])
    return


@app.cell
def _(mo, records, run_dir, runs):
    records  # checkpoints are listed again when the run logs
    _rows = [
        {"step": c.step, "last": "yes" if c.is_last else "", "size_mb": c.size_mb, "saved": c.saved,
         "pretrained_model": str(c.pretrained_model)}
        for c in runs.checkpoints(run_dir)
    ]  # fmt: skip
    mo.vstack(
        [
            mo.md(
                "## Checkpoints\nLoad one with `policies.load(path)`; `last` is where `--resume` continues."
            ),
            mo.ui.table(_rows, selection=None) if _rows else mo.md("No checkpoint saved yet."),
        ]
    )
    return


@app.cell
def _(mo, spec_text):
    mo.accordion({"Resolved spec (spec.toml)": mo.md(f"```toml\n{spec_text}\n```")})
    return


@app.cell
def _(mo, spec):
    resume_steps = mo.ui.number(
        start=1, value=int(spec.get("train", {}).get("steps", 1)), label="train.steps", step=1
    )
    resume_button = mo.ui.run_button(label="Resume from checkpoints/last")
    mo.vstack(
        [
            mo.md("## Resume\n`lerobot-run --resume` in the background; raise `train.steps` to go further."),
            mo.hstack([resume_steps, resume_button], justify="start"),
        ]
    )
    return resume_button, resume_steps


@app.cell
def _(mo, resume_button, resume_steps, run_dir, runs):
    mo.stop(not resume_button.value)
    try:
        _proc = runs.start_resume(run_dir, steps=int(resume_steps.value))
        _msg = mo.callout(
            mo.md(
                f"Started `{' '.join(runs.resume_command(run_dir, int(resume_steps.value)))}` (pid {_proc.pid}); "
                f"its output goes to `{run_dir / runs.RESUME_OUTPUT}` and `log.txt`."
            ),
            kind="success",
        )
    except (OSError, ValueError) as _e:
        _msg = mo.callout(mo.md(f"Resume failed: {_e}"), kind="danger")
    _msg
    return


if __name__ == "__main__":
    app.run()
