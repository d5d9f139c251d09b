"""Schema of the `eval` job: a policy on a simulation benchmark (LeRobot's `lerobot-eval`)."""

from __future__ import annotations

from typing import Any

import attrs

from .schema import RunOptions, SpecValueError, check, positive, spec_field


def _valid_env(instance: Any, attribute: attrs.Attribute, value: str) -> None:
    from lerobot_fn.envs import ENV_TYPES, _load_all

    _load_all()
    if value not in ENV_TYPES:
        raise SpecValueError(attribute.name, "one of " + ", ".join(repr(t) for t in sorted(ENV_TYPES)), value)


def _valid_options(table: EnvTable) -> None:
    """Runs after `type` and `task` are set (attrs validates once every field is assigned)."""
    from lerobot_fn.envs import ENV_TYPES

    if table.type not in ENV_TYPES:
        return  # reported at env.type
    try:
        table.config()
    except (ValueError, TypeError) as err:
        raise SpecValueError("options", "options the env type's config accepts", str(err)) from None


@attrs.frozen
class EnvTable:
    """The benchmark: its LeRobot env type, the task (or suite) and any other option of its config."""

    type: str = spec_field("pusht", doc="benchmark: pusht, aloha, metaworld or libero", validator=_valid_env)
    task: str | None = spec_field(
        None, doc="task or suite (pusht: PushT-v0; aloha: AlohaInsertion-v0 / AlohaTransferCube-v0; metaworld: "
        "a task such as reach-v3, a difficulty group (easy, medium, hard, very_hard), MT10 or MT50, or a "
        "comma-separated list; libero: libero_spatial, libero_object, libero_goal, libero_10, libero_90); "
        "empty: the benchmark's default"
    )
    options: dict[str, Any] = spec_field(
        attrs.Factory(dict), doc="other fields of the benchmark's config, e.g. {episode_length = 100}",
        validator=lambda inst, attr, value: _valid_options(inst),
    )

    def config(self) -> Any:
        """The frozen env config this table describes (ValueError on an unknown option)."""
        from lerobot_fn.envs import make_config

        options = dict(self.options)
        if self.task is not None:
            options["task"] = self.task
        return make_config(self.type, **options)


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
