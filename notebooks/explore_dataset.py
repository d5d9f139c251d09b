"""Explore a LeRobotDataset v3.0: schema, episodes, every camera frame by frame, signals, tools.

marimo run notebooks/explore_dataset.py                       # the generated sample dataset
marimo run notebooks/explore_dataset.py -- --dataset PATH     # a local dataset root
marimo run notebooks/explore_dataset.py -- --dataset lerobot/pusht   # a Hub repo id
... -- --dataset PATH --output DIR     # where the dataset tools write (default: beside it)
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Explore a LeRobot dataset")


@app.cell
def _():
    from pathlib import Path

    import marimo as mo

    from lerobot_fn import data, viz
    from lerobot_fn.data import tools
    from lerobot_fn.data.read import summary
    from lerobot_fn.data.read.browse import DatasetBrowser

    return DatasetBrowser, Path, data, mo, summary, tools, viz


@app.cell
def _(DatasetBrowser, Path, data, mo):
    source = mo.cli_args().get("dataset") or data.sample_dataset()
    browser = DatasetBrowser(source)
    meta = browser.meta
    # where the dataset tools write (default: beside the dataset)
    output_dir = Path(mo.cli_args().get("output") or meta.root.parent)
    return browser, meta, output_dir


@app.cell
def _(browser, meta, mo):
    mo.md(
        f"""
        # {meta.repo_id or meta.root.name}

        `{meta.root}` · LeRobotDataset {meta.codebase_version} · robot `{meta.robot_type}` ·
        **{len(browser.episodes)}** episodes · **{meta.total_frames}** frames at **{meta.fps}** fps ·
        cameras: {", ".join(f"`{k}`" for k in meta.camera_keys) or "none"}

        Tasks: {"; ".join(meta.tasks)}
        """
    )
    return


@app.cell
def _(meta, mo, summary):
    mo.vstack([mo.md("## Features"), mo.ui.table(summary.schema_table(meta), selection=None, page_size=20)])
    return


@app.cell
def _(meta, mo, summary):
    episode_rows = mo.ui.table(
        summary.episode_table(meta),
        selection="multi",
        page_size=10,
        label="Select episodes for the tools at the bottom",
    )
    mo.vstack([mo.md("## Episodes"), episode_rows])
    return (episode_rows,)


@app.cell
def _(browser, mo):
    episode = mo.ui.slider(steps=browser.episodes, label="episode", show_value=True, full_width=True)
    return (episode,)


@app.cell
def _(browser, episode, meta, mo, summary, viz):
    frame = mo.ui.slider(
        0, browser.episode_length(episode.value) - 1, value=0, label="frame", show_value=True, full_width=True
    )
    # the episode's curves are drawn once; each frame only redraws the marker
    _panels, _labels = summary.signal_panels(meta, browser.signals(episode.value))
    curves = viz.MarkedCurves(_panels, labels=_labels) if _panels else None
    return curves, frame


@app.cell
def _(browser, episode, frame, meta, mo):
    images = browser.frame(episode.value, frame.value)
    cameras = mo.hstack(
        [
            mo.image(
                img,
                alt=key,
                caption=key,
                width=max(192, img.shape[1] * 2),
                style={"image-rendering": "pixelated"},
            )
            for key, img in images.items()
        ],
        justify="start",
        wrap=True,
    )
    t = frame.value / meta.fps
    mo.vstack([mo.md("## Frames"), episode, frame, mo.md(f"t = {t:.2f} s"), cameras])
    return


@app.cell
def _(curves, frame, mo):
    _plot = mo.md("No signals to plot.")
    if curves is not None:
        _plot = mo.image(curves.png(frame.value), alt="signals over the episode")
    _plot
    return


@app.cell
def _(meta, mo, summary):
    mo.vstack(
        [
            mo.md("## Statistics (meta/stats.json)"),
            mo.ui.table(summary.feature_stats_table(meta), selection=None, page_size=20),
        ]
    )
    return


@app.cell
def _(episode_rows, meta, mo, output_dir):
    selected = sorted(row["episode_index"] for row in episode_rows.value)
    delete_output = mo.ui.text(
        value=str(output_dir / f"{meta.root.name}_edited"), label="new dataset", full_width=True
    )
    delete_button = mo.ui.run_button(
        label=f"Delete episodes {selected} into a new dataset", kind="danger", disabled=not selected
    )
    split_fraction = mo.ui.slider(0.05, 0.95, step=0.05, value=0.8, label="train fraction", show_value=True)
    split_output = mo.ui.text(
        value=str(output_dir / f"{meta.root.name}_splits"), label="split into", full_width=True
    )
    mo.vstack(
        [
            mo.md("## Dataset tools\nEach writes a new dataset; the one shown here is never changed."),
            mo.md(f"**Delete** the selected episodes: {selected or 'select rows in the episode table'}"),
            delete_output,
            delete_button,
            mo.md(
                "**Split** by episodes in order, LeRobot's rule: train gets int(n * fraction) episodes, "
                "val the rest; a split with no episode is left out"
            ),
            split_fraction,
            split_output,
        ]
    )
    return delete_button, delete_output, selected, split_fraction, split_output


@app.cell
def _(browser, mo, split_fraction, tools):
    _train = round(split_fraction.value, 2)
    _plan = tools.fractions_to_episodes(len(browser.episodes), {"train": _train, "val": round(1 - _train, 2)})
    split_plan = {k: [browser.episodes[i] for i in v] for k, v in _plan.items()}
    split_button = mo.ui.run_button(
        label="Split into " + " / ".join(f"{k} {v}" for k, v in split_plan.items()),
        disabled=len(split_plan) < 2,
    )
    split_button
    return split_button, split_plan


@app.cell
def _(data, delete_button, delete_output, meta, mo, selected, tools):
    mo.stop(not delete_button.value)
    try:
        _out = tools.delete_episodes(meta.root, selected, delete_output.value)
        _msg = mo.callout(mo.md(f"Wrote `{_out}`: {data.open(_out).num_episodes} episodes"), kind="success")
    except (OSError, ValueError, data.DatasetError) as _e:
        _msg = mo.callout(mo.md(f"Delete failed: {_e}"), kind="danger")
    _msg
    return


@app.cell
def _(data, meta, mo, split_button, split_output, split_plan, tools):
    mo.stop(not split_button.value)
    try:
        _parts = tools.split(meta.root, split_output.value, split_plan)
        _msg = mo.callout(
            mo.md(
                "\n".join(f"- {k}: `{p}` ({data.open(p).num_episodes} episodes)" for k, p in _parts.items())
            ),
            kind="success",
        )
    except (OSError, ValueError, data.DatasetError) as _e:
        _msg = mo.callout(mo.md(f"Split failed: {_e}"), kind="danger")
    _msg
    return


if __name__ == "__main__":
    app.run()
