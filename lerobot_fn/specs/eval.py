"""Schema of the `eval` job: a policy on a simulation benchmark (LeRobot's `lerobot-eval`)."""

from __future__ import annotations

from typing import Any

import attrs

from .schema import RunOptions, check, positive, spec_field


@attrs.frozen
class EnvTable:
    """The benchmark: its LeRobot env type, the task (or suite) and any other option of its config.

    Only a description: the job resolves it into the env's config (`lerobot_fn.envs.config_from_table`)
    and reports an unknown type or option at `env.type` / `env.options` (specs import no envs)."""

    type: str = spec_field("pusht", doc="benchmark: pusht, aloha, metaworld or libero")
    task: str | None = spec_field(
        None, doc="task or suite (pusht: PushT-v0; aloha: AlohaInsertion-v0 / AlohaTransferCube-v0; metaworld: "
        "a task such as reach-v3, a difficulty group (easy, medium, hard, very_hard), MT10 or MT50, or a "
        "comma-separated list; libero: libero_spatial, libero_object, libero_goal, libero_10, libero_90); "
        "empty: the benchmark's default"
    )
    options: dict[str, Any] = spec_field(
        attrs.Factory(dict), doc="other fields of the benchmark's config, e.g. {episode_length = 100}",
    )


@attrs.frozen
class PolicyTable:
    """Which policy to evaluate."""

    path: str = spec_field(
        doc='checkpoint directory (`pretrained_model/`, ours or LeRobot\'s), a Hub repo id, or "random"'
    )


@attrs.frozen
class EvalOptions:
    """Episodes, parallel envs and videos (LeRobot's `--eval.*`)."""

    n_episodes: int = spec_field(50, doc="episodes per task", validator=positive)
    batch_size: int = spec_field(
        0, doc="parallel envs (one worker process each); 0: auto = CPU cores, capped by the episodes and 64",
        validator=check(lambda v: v >= 0, "an integer >= 0"),
    )
    max_episodes_rendered: int = spec_field(
        10, doc="episodes of each task saved as mp4 videos (the first ones)",
        validator=check(lambda v: v >= 0, "an integer >= 0"),
    )


@attrs.frozen
class EvalRunOptions(RunOptions):
    """The shared run options with LeRobot's eval seed as the default (whether or not `[run]` is given)."""

    seed: int = spec_field(1000, doc="seed of the first episode of each task (episode i: seed + i; LeRobot's "
                           "default 1000)")


@attrs.frozen
class EvalSpec:
    """Evaluate a policy in simulation: `eval_info.json` (LeRobot's keys) and mp4 videos in the run
    directory; per task and overall success rate, rewards and episodes/s."""

    policy: PolicyTable = spec_field(doc="the policy to evaluate")
    env: EnvTable = spec_field(attrs.Factory(EnvTable), doc="the benchmark")
    eval: EvalOptions = spec_field(attrs.Factory(EvalOptions), doc="how many episodes, how many envs at once")
    run: EvalRunOptions = spec_field(attrs.Factory(EvalRunOptions), doc="run directory, seed and device")
