"""Child processes of a process, read from /proc (the env workers a test expects to come and go)."""

from __future__ import annotations

import os
import threading
from pathlib import Path


def children(pid: int | None = None) -> dict[int, str]:
    """pid -> command line of the live (non-zombie) children of `pid` (default: this process)."""
    pid = os.getpid() if pid is None else pid
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[1]) == pid and fields[0] != "Z":
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue
    return found


def env_workers(pid: int | None = None) -> set[int]:
    """The spawned env worker processes among the children (not multiprocessing's resource tracker)."""
    return {p for p, cmd in children(pid).items() if "spawn_main" in cmd and "resource_tracker" not in cmd}


# --- benchmark configs for tests: adding a benchmark is adding a class ------------------------------

import attrs

from lerobot_fn.envs import Task
from lerobot_fn.envs.config import require
from lerobot_fn.envs.pusht import PushtEnv


@attrs.frozen
class TwoTaskPushT(PushtEnv):
    """PushT twice, as a two-task suite (each task must get its own workers, one after the other)."""

    def tasks(self) -> list[Task]:
        return [Task("suite", 0, "PushT-v0", "push the T, first time"),
                Task("suite", 1, "PushT-v0", "push the T, second time")]


@attrs.frozen
class BrokenSim(PushtEnv):
    """A simulator that fails to build inside its worker."""

    def make_gym(self, task: Task):
        raise RuntimeError("the simulator could not load its assets")


@attrs.frozen
class UninstalledSim(PushtEnv):
    """A benchmark whose gym package is not installed."""

    extra = "nosuchbench"

    def make_gym(self, task: Task):
        return require("gym_nosuchbench", self.extra)


class ProbeActor:
    """A random actor that records the env workers alive at every batch start and the threads it is called
    from, and can fail on demand."""

    def __init__(self, config, fail_after: int | None = None):
        from lerobot_fn.envs.rollout import RandomActor

        self.inner = RandomActor(*config.action_bounds(), config.action_shape)
        self.seen: list[set[int]] = []
        self.fail_after, self.steps = fail_after, 0
        self.threads: set[str] = set()  # the threads it was called from (one per lane)

    def reset(self, n):
        self.seen.append(env_workers())

    def act(self, obs, state, generators):
        self.threads.add(threading.current_thread().name)
        self.steps += 1
        if self.fail_after is not None and self.steps > self.fail_after:
            raise ValueError("policy blew up")
        return self.inner.act(obs, state, generators)
