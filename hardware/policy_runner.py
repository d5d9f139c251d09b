"""Run a policy on a robot without stalling the control loop.

`ChunkedPolicyRunner` computes action chunks ahead: while the current chunk plays, the next one is
predicted from a fresh observation, and when it arrives it is cross-faded into what is left of the
current one (`lerobot_fn.robot.blend_chunks`), so no control tick waits for the network (LeRobot
computes the whole chunk inside one tick). The request is timed from the measured round trip so the new
chunk lands before the queue runs dry.

Where inference runs (`worker`):
- `"process"` (default): a separate, lower-priority process (`hardware.policy_worker`). On a small CPU
  a worker *thread* shares the GIL with the loop and makes ticks late; a process does not.
- `"thread"`: a thread of this process (no start-up cost; the policy object is used as it is).
Both give the same actions for the same observations (`hardware.policy_inputs` is shared).
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Mapping

import numpy as np

from lerobot_fn.robot import blend_chunks, request_margin

from .policy_inputs import ObservationAdapter, chunk_lengths, predict_joint_chunk
from .policy_worker import PolicyProcess, PolicyWorkerError
from .threads import HELPER_NICE

log = logging.getLogger(__name__)

Chunk = tuple[int, np.ndarray, float]  # (tick of its observation, joint goals (n, joints), inference s)


class PolicyThread:
    """Inference in a thread of this process: the same interface as `PolicyProcess`."""

    def __init__(self, policy, joints: list[str], cameras: list[str], *, task: str | None = None,
                 actions_per_chunk: int | None = None, device: str | None = None):
        if isinstance(policy, (str, os.PathLike)):
            from lerobot_fn import policies

            policy = policies.load(policy, device=device)
        self.name = f"{policy.type} policy"
        self.policy, self.task = policy, task
        self.adapter = ObservationAdapter(policy.config, joints, cameras)
        self.chunk_size, self.actions_per_chunk = chunk_lengths(policy.config, actions_per_chunk)
        self._request: tuple[int, dict] | None = None
        self._result: Chunk | None = None
        self._error: BaseException | None = None
        self._stop = False
        self._cond = threading.Condition()
        # the control thread must get the GIL back within a fraction of a tick while the worker runs Python
        # code (the default 5 ms hand-over is a sixth of a 30 fps period); restored on close
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch_interval, 0.0005))
        self._thread = threading.Thread(target=self._work, name="policy-worker", daemon=True)
        self._thread.start()

    def ready(self, timeout_s: float = 0.0) -> dict:
        return {"notes": self.adapter.notes, "chunk_size": self.chunk_size, "actions_per_chunk": self.actions_per_chunk}

    def _work(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._request is not None or self._stop)
                if self._stop:
                    return
                (tick, obs), self._request = self._request, None
            try:
                start = time.perf_counter()
                chunk = predict_joint_chunk(self.policy, self.adapter, obs, task=self.task,
                                            actions_per_chunk=self.actions_per_chunk)
                result = (tick, chunk, time.perf_counter() - start)
            except Exception as exc:  # noqa: BLE001 (raised in the control thread by poll / wait)
                with self._cond:
                    self._error = exc
                    self._cond.notify_all()
                return
            with self._cond:
                self._result = result
                self._cond.notify_all()

    def submit(self, tick: int, obs: Mapping) -> None:
        with self._cond:
            self._request = (tick, dict(obs))
            self._cond.notify_all()

    def _take(self) -> Chunk | None:
        if self._error is not None:
            raise PolicyWorkerError(f"the policy {self.name} failed while predicting a chunk: "
                                    f"{type(self._error).__name__}: {self._error}") from self._error
        result, self._result = self._result, None
        return result

    def poll(self) -> Chunk | None:
        with self._cond:
            return self._take()

    def wait(self, timeout_s: float) -> Chunk:
        with self._cond:
            if not self._cond.wait_for(lambda: self._result is not None or self._error is not None, timeout_s):
                raise PolicyWorkerError(f"the policy {self.name} took more than {timeout_s:g} s to predict a chunk")
            return self._take()

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join(timeout=30)
        sys.setswitchinterval(self._switch_interval)


class ChunkedPolicyRunner:
    """`action(obs)` once per control tick returns the next joint goals; chunks are computed ahead.

    policy: a `pretrained_model` directory (or Hub repo id) or a loaded `Policy`;
    joints / cameras: the robot's joint and camera names (`robot.joints`, `list(robot.cameras)`);
    actions_per_chunk: how many actions of each chunk may play (default: the policy's n_action_steps);
    blend_steps: length of the cross-fade between consecutive chunks;
    worker: "process" (default) or "thread"; device: where the policy runs (default: the checkpoint's);
    torch_threads / nice: the worker process's torch threads (default: all cores but one, at most 4) and
    how many nice steps below the loop it runs; timeout_s: the longest a tick waits for a chunk that is
    due (a hung worker raises instead of freezing the loop); start_timeout_s: for loading the policy.
    """

    def __init__(self, policy, joints: list[str], cameras: list[str], *, task: str | None = None,
                 actions_per_chunk: int | None = None, blend_steps: int = 4, worker: str = "process",
                 device: str | None = None, torch_threads: int | None = None, nice: int = HELPER_NICE,
                 timeout_s: float = 30.0, start_timeout_s: float = 600.0):
        self.joints, self.blend_steps, self.timeout_s, self.start_timeout_s = list(joints), blend_steps, timeout_s, start_timeout_s
        if worker == "process":
            self._source = PolicyProcess(policy, self.joints, list(cameras), task=task, actions_per_chunk=actions_per_chunk,
                                         device=device, torch_threads=torch_threads, nice=nice)
        elif worker == "thread":
            self._source = PolicyThread(policy, self.joints, list(cameras), task=task,
                                        actions_per_chunk=actions_per_chunk, device=device)
        else:
            raise ValueError(f"worker must be 'process' or 'thread', got {worker!r}")
        self.name = self._source.name
        self._started = False
        self._queue = np.zeros((0, len(self.joints)))
        self._tick = 0
        self._latency_ticks = 1.0
        self._sent_at: float | None = None  # when the chunk in flight was requested (None: none in flight)
        self._last: np.ndarray | None = None  # the goals played last (held while a late chunk is awaited)
        self.chunks = 0
        self.holds = 0  # ticks that held the last goals because no chunk was ready
        self.inference_s: list[float] = []  # each chunk's inference time in the worker
        self.round_trip_s: list[float] = []  # request -> chunk merged in the loop

    @property
    def worker_pid(self) -> int | None:
        """The inference process's pid (None with worker="thread")."""
        return getattr(self._source, "pid", None)

    def start(self) -> None:
        """Wait until the policy is loaded (done by `prime` / the first `action` otherwise)."""
        if not self._started:
            info = self._source.ready(self.start_timeout_s)
            self._started = True
            if info["notes"]:
                log.warning("policy and robot differ: %s", "; ".join(info["notes"]))

    def _submit(self, tick: int, obs: Mapping) -> None:
        self._source.submit(tick, obs)
        self._sent_at = time.perf_counter()

    def _merge(self, result: Chunk, period_s: float | None) -> None:
        tick, chunk, seconds = result
        round_trip = time.perf_counter() - self._sent_at
        self._sent_at = None
        self.chunks += 1
        self.inference_s.append(seconds)
        self.round_trip_s.append(round_trip)
        if period_s:
            self._latency_ticks = 0.7 * self._latency_ticks + 0.3 * (round_trip / period_s)
        self._queue = blend_chunks(self._queue, chunk, elapsed=self._tick - tick, blend_steps=self.blend_steps)

    def action(self, obs: Mapping, *, period_s: float | None = None) -> dict[str, float]:
        """The joint goals for this tick; `period_s` (the control period) tunes how early the next chunk is
        asked for. If the worker falls so far behind that nothing is queued, a loop that gives `period_s`
        never waits: the arm holds its last goal for the tick (counted in `holds`) until the chunk comes
        (at most `timeout_s`); without `period_s`, or before the first chunk, the call waits for it."""
        self.start()
        result = self._source.poll()
        if result is not None:
            self._merge(result, period_s)
        while len(self._queue) == 0:  # (a chunk that arrives too late to contribute leaves it empty)
            if self._sent_at is None:
                self._submit(self._tick, obs)
            if period_s is None or self._last is None:
                self._merge(self._source.wait(self.timeout_s), period_s)
            elif time.perf_counter() - self._sent_at > self.timeout_s:
                raise PolicyWorkerError(f"the policy {self.name} sent no chunk in {self.timeout_s:g} s")
            else:
                self.holds += 1
                self._tick += 1
                return self._goals(self._last)
        action, self._queue = self._queue[0], self._queue[1:]
        self._last = action
        self._tick += 1
        if self._sent_at is None and len(self._queue) <= request_margin(self._latency_ticks):
            # `obs` was observed at the tick just played: the new chunk's first action is meant for it
            self._submit(self._tick - 1, obs)
        return self._goals(action)

    def _goals(self, action: np.ndarray) -> dict[str, float]:
        return {f"{j}.pos": float(v) for j, v in zip(self.joints, action, strict=True)}

    def reset(self) -> None:
        """A new episode: drop what is queued (waiting for a chunk in flight, which is dropped too)."""
        if self._sent_at is not None:
            self._source.wait(self.timeout_s)
            self._sent_at = None
        self._queue, self._tick, self._last = np.zeros((0, len(self.joints))), 0, None

    def prime(self, obs: Mapping) -> None:
        """Compute the first chunk before the control loop starts (the arm does not wait at tick 0)."""
        self.start()
        if self._sent_at is None and len(self._queue) == 0:
            self._submit(self._tick, obs)
        if self._sent_at is not None:
            self._merge(self._source.wait(max(self.timeout_s, self.start_timeout_s)), None)

    def close(self) -> None:
        self._source.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


__all__ = ["ChunkedPolicyRunner", "ObservationAdapter", "PolicyProcess", "PolicyThread", "PolicyWorkerError"]
