"""Schema of the `quickstart` job: record -> train -> evaluate, offline, in about ten minutes on a laptop."""

from __future__ import annotations

import attrs

from .eval import EnvTable
from .schema import RunOptions, check, positive, spec_field

_QUICK_ENV = attrs.Factory(lambda: EnvTable(
    type="metaworld", task="reach-v3",
    options={"obs_type": "environment_state_agent_pos", "episode_length": 200},
))


@attrs.frozen
class Demos:
    """Scripted-expert demonstrations, written as a LeRobotDataset v3.0."""

    episodes: int = spec_field(40, doc="successful expert episodes to record", validator=positive)


@attrs.frozen
class QuickTrain:
    """A small ACT policy trained on the demonstrations with the train job's `train.init` / `train.step`."""

    steps: int = spec_field(3000, doc="optimisation steps", validator=positive)
    batch_size: int = spec_field(64, doc="frames per batch", validator=positive)
    learning_rate: float = spec_field(1e-3, doc="AdamW learning rate", validator=positive)
    chunk_size: int = spec_field(10, doc="actions predicted per chunk (ACT chunk_size)", validator=positive)
    n_action_steps: int = spec_field(5, doc="actions executed from each chunk", validator=positive)


@attrs.frozen
class QuickEval:
    """The trained policy and a random one, evaluated on the same seeds."""

    n_episodes: int = spec_field(20, doc="episodes per policy", validator=positive)
    batch_size: int = spec_field(0, doc="parallel envs; 0: auto (CPU cores)",
                                 validator=check(lambda v: v >= 0, "an integer >= 0"))
    max_episodes_rendered: int = spec_field(
        2, doc="episodes of each policy saved as mp4 (needs headless OpenGL: OSMesa on a CPU)",
        validator=check(lambda v: v >= 0, "an integer >= 0"))


@attrs.frozen
class QuickstartSpec:
    """The whole loop once, offline: a scripted expert records demonstrations in simulation (Meta-World
    reach-v3 by default) into a LeRobotDataset v3.0, a small ACT policy is trained on them, and it is
    evaluated in the same env next to a random policy (success rates, eval_info.json, videos)."""

    env: EnvTable = spec_field(_QUICK_ENV, doc="the simulated task (its expert must read the full state)")
    demos: Demos = spec_field(attrs.Factory(Demos), doc="the demonstrations")
    train: QuickTrain = spec_field(attrs.Factory(QuickTrain), doc="the training run")
    eval: QuickEval = spec_field(attrs.Factory(QuickEval), doc="the evaluation")
    run: RunOptions = spec_field(attrs.Factory(RunOptions), doc="run directory, seed and device")
