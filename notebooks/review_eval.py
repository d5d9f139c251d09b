"""Review an evaluation: success per task and overall, every episode (worst or best first), the
videos inline.

marimo run notebooks/review_eval.py                                # a small sample eval (generated once)
marimo run notebooks/review_eval.py -- --eval outputs/eval/RUN     # an eval run of lerobot-run
"""

import marimo

__generated_with = "0.25.2"
app = marimo.App(width="medium", app_title="Review an evaluation")


@app.cell
def _():
    from pathlib import Path

    import marimo as mo

    from lerobot_fn import eval_results

    return Path, eval_results, mo


@app.cell
def _(Path, eval_results, mo):
    eval_dir = Path(mo.cli_args().get("eval") or eval_results.sample_eval())
    info = eval_results.load_eval_info(eval_dir)
    return eval_dir, info


@app.cell
def _(eval_dir, info, mo):
    _overall = info["overall"]
    _policy = info.get("policy", {})
    mo.md(
        f"""
        # Evaluation `{eval_dir}`

        policy `{_policy.get("path") or _policy.get("type") or _policy}` on `{info["env"].get("type")}` ·
        **{_overall["pc_success"]:.1f}% success** over {_overall["n_episodes"]} episodes ·
        average sum of rewards {_overall["avg_sum_reward"]:.3f} · seed {info.get("seed")}
        """
    )
    return


@app.cell
def _(eval_results, info, mo):
    mo.vstack([mo.md("## Success per task"), mo.ui.table(eval_results.task_table(info), selection=None)])
    return


@app.cell
def _(mo):
    order = mo.ui.radio(
        options=["worst first", "best first"], value="worst first", label="order", inline=True
    )
    return (order,)


@app.cell
def _(eval_dir, eval_results, info, mo, order):
    episodes = eval_results.episode_table(info, eval_dir, best_first=order.value == "best first")
    episode_rows = mo.ui.table(
        episodes, selection="single", page_size=10, label="Select an episode to play it"
    )
    mo.vstack([mo.md("## Episodes"), order, episode_rows])
    return episode_rows, episodes


@app.cell
def _(episode_rows, episodes, mo):
    _shown = episode_rows.value or [e for e in episodes if e["video"]][:3]
    _videos = [
        mo.vstack(
            [
                mo.video(e["video"], controls=True, muted=True, width=240),
                mo.md(f"{e['task']} #{e['episode']}: {'success' if e['success'] else 'failure'}, "
                      f"reward {e['sum_reward']}"),
            ]
        )
        for e in _shown
        if e["video"]
    ]  # fmt: skip
    mo.vstack(
        [
            mo.md("## Videos" + ("" if episode_rows.value else " (the first three in this order)")),
            mo.hstack(_videos, justify="start", wrap=True) if _videos else mo.md("No rendered video."),
        ]
    )
    return


if __name__ == "__main__":
    app.run()
