"""The job registry: job name -> schema class and run function, named by lazy "module:attr" strings
so that listing jobs imports nothing heavy (no torch, no serial or camera code)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import attrs

from .errors import SpecError, SpecIssue, did_you_mean


def _import(target: str) -> Any:
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


@attrs.frozen
class Job:
    """A registered job: `name` as written in `job = "..."`, its schema and run function."""

    name: str
    schema: str
    run: str
    summary: str

    def schema_class(self) -> type:
        return _import(self.schema)

    def run_function(self) -> Callable[..., Any]:
        return _import(self.run)


def _jobs(*jobs: Job) -> dict[str, Job]:
    return {job.name: job for job in jobs}


JOBS: dict[str, Job] = _jobs(
    Job(
        "quickstart",
        "lerobot_fn.specs.quickstart:QuickstartSpec",
        "lerobot_fn.jobs.quickstart:quickstart",
        "offline first run: record expert demos in Meta-World, train ACT on them, evaluate it next to a random policy",
    ),
    Job(
        "train",
        "lerobot_fn.specs.train:TrainSpec",
        "lerobot_fn.jobs.train:train",
        "train or fine-tune a policy (ACT, Diffusion, SmolVLA, pi0, pi05) on a dataset (LeRobot checkpoints, exact resume, DDP)",
    ),
    Job(
        "eval",
        "lerobot_fn.specs.eval:EvalSpec",
        "lerobot_fn.jobs.eval:eval",
        "evaluate a policy in simulation (pusht, aloha, metaworld, libero): eval_info.json and videos",
    ),
    Job(
        "dataset.info",
        "lerobot_fn.specs.dataset:InfoSpec",
        "lerobot_fn.jobs.dataset:info",
        "summarise a dataset: episodes, frames, fps, tasks, features, files",
    ),
    Job(
        "dataset.delete_episodes",
        "lerobot_fn.specs.dataset:DeleteEpisodesSpec",
        "lerobot_fn.jobs.dataset:delete_episodes",
        "write a copy of a dataset without some episodes, re-indexed",
    ),
    Job(
        "dataset.split",
        "lerobot_fn.specs.dataset:SplitSpec",
        "lerobot_fn.jobs.dataset:split",
        "split a dataset into several by fractions or episode lists",
    ),
    Job(
        "dataset.merge",
        "lerobot_fn.specs.dataset:MergeSpec",
        "lerobot_fn.jobs.dataset:merge",
        "merge datasets with the same fps and features",
    ),
    Job(
        "dataset.add_feature",
        "lerobot_fn.specs.dataset:AddFeatureSpec",
        "lerobot_fn.jobs.dataset:add_feature",
        "add a numeric feature from a .npy file of per-frame values",
    ),
    Job(
        "dataset.remove_feature",
        "lerobot_fn.specs.dataset:RemoveFeatureSpec",
        "lerobot_fn.jobs.dataset:remove_feature",
        "remove features (columns, videos, stats)",
    ),
    Job(
        "dataset.images_to_video",
        "lerobot_fn.specs.dataset:ImagesToVideoSpec",
        "lerobot_fn.jobs.dataset:images_to_video",
        "store inline image features as videos",
    ),
    Job(
        "dataset.recompute_stats",
        "lerobot_fn.specs.dataset:RecomputeStatsSpec",
        "lerobot_fn.jobs.dataset:recompute_stats",
        "recompute per-episode and dataset stats from the frames",
    ),
    Job(
        "dataset.convert_v21",
        "lerobot_fn.specs.dataset:ConvertV21Spec",
        "lerobot_fn.jobs.dataset:convert_v21",
        "convert a LeRobotDataset v2.1 to v3.0",
    ),
    Job(
        "dataset.push",
        "lerobot_fn.specs.dataset:PushSpec",
        "lerobot_fn.jobs.dataset:push",
        "upload a dataset to the Hugging Face Hub (repo, card, files, version tag)",
    ),
    # hardware jobs (hardware/): named by string so listing jobs imports no serial, SDK or camera code
    Job("find_port", "hardware.specs:FindPortSpec", "hardware.jobs:find_port",
        "find an arm's serial port (unplug it when asked)"),
    Job("find_cameras", "hardware.specs:FindCamerasSpec", "hardware.jobs:find_cameras",
        "list the cameras OpenCV can open"),
    Job("setup_motors", "hardware.specs:SetupMotorsSpec", "hardware.jobs:setup_motors",
        "give a new arm's motors their ids and baud rate, one motor at a time"),
    Job("calibrate", "hardware.specs:CalibrateSpec", "hardware.jobs:calibrate",
        "calibrate an arm and save LeRobot's calibration file"),
    Job("teleoperate", "hardware.specs:TeleoperateSpec", "hardware.jobs:teleoperate",
        "drive a follower arm with a leader arm, keyboard or gamepad"),
    Job("record", "hardware.specs:RecordSpec", "hardware.jobs:record",
        "record a LeRobotDataset on the robot, teleoperated or policy-driven"),
    Job("replay", "hardware.specs:ReplaySpec", "hardware.jobs:replay",
        "play a recorded episode's actions on the follower"),
    Job("run_policy", "hardware.specs:RunPolicySpec", "hardware.jobs:run_policy",
        "run a policy on the robot, next chunk computed ahead while the current one plays"),
)


def get_job(name: str, source: str = "lerobot-run") -> Job:
    """The job called `name`, or a `SpecError` with the known names and a did-you-mean."""
    try:
        return JOBS[name]
    except KeyError:
        hint = did_you_mean(name, JOBS) or f"; known jobs: {', '.join(sorted(JOBS))}"
        raise SpecError(source, [SpecIssue("job", f"unknown job '{name}'{hint}")]) from None
