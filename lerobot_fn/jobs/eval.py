"""The `eval` job: `lerobot_fn.envs.evaluate` on a spec, into the run directory."""

from __future__ import annotations

from lerobot_fn import envs
from lerobot_fn.envs.evaluation import EVAL_INFO
from lerobot_fn.specs import JobError, RunContext
from lerobot_fn.specs.eval import EvalSpec


def eval(spec: EvalSpec, ctx: RunContext) -> dict:
    config = envs.config_from_table(spec.env, str(ctx.out_dir / "spec.toml"))
    ctx.log.info("evaluating %s on %s (%d tasks), %d episodes per task, seed %d", spec.policy.path,
                 config.type, len(config.tasks()), spec.eval.n_episodes, ctx.seed)
    try:
        info = envs.evaluate(
            spec.policy.path, config, n_episodes=spec.eval.n_episodes, batch_size=spec.eval.batch_size,
            seed=ctx.seed, output_dir=ctx.out_dir, max_episodes_rendered=spec.eval.max_episodes_rendered,
            device=spec.run.device, log=ctx.log.info,
        )
    except envs.MissingExtraError as err:
        raise JobError(f"env {config.type!r} cannot start: {err}") from err
    overall = info["overall"]
    ctx.log.info("overall: pc_success %.1f%%, avg_sum_reward %.3f, avg_max_reward %.3f, %.2f episodes/s; "
                 "eval_info.json and videos in %s", overall["pc_success"], overall["avg_sum_reward"],
                 overall["avg_max_reward"], overall["episodes_per_s"], ctx.out_dir)
    return {
        "eval_info": str((ctx.out_dir / EVAL_INFO).resolve()),
        **{k: overall[k] for k in ("pc_success", "avg_sum_reward", "avg_max_reward", "n_episodes",
                                   "episodes_per_s", "video_paths")},
    }
