"""Run a policy on a robot without stalling the control loop.

`ChunkedPolicyRunner` computes action chunks in a background worker: while the current chunk plays,
the next one is predicted from a fresh observation, and when it arrives it is cross-faded into what
is left of the current one (`lerobot_fn.robot.blend_chunks`), so no control tick waits for the
network (LeRobot computes the whole chunk inside one tick). The request is timed from the measured
inference latency so the new chunk lands before the queue runs dry.

Observations are adapted to the policy: cameras are matched by name (else in order) and resized to the
policy's image size, the state is the joints in order (padded or cut to the policy's state size), and
actions are cut or padded to the robot's joints; a mismatch is logged once.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Mapping

import numpy as np

from lerobot_fn.robot import blend_chunks, request_margin

log = logging.getLogger(__name__)


class ObservationAdapter:
    """Robot observation dict -> the policy's raw input dict (a batch of one, torch tensors)."""

    def __init__(self, config, joints: list[str], cameras: list[str]):
        features = config.input_features
        self.image_keys = [k for k in features if k.startswith("observation.images.")]
        self.state_dim = features["observation.state"].shape[0] if "observation.state" in features else 0
        self.action_dim = config.output_features["action"].shape[0]
        self.joints = joints
        self.camera_of = {}
        for i, key in enumerate(self.image_keys):
            name = key.removeprefix("observation.images.")
            if name in cameras:
                self.camera_of[key] = name
            elif i < len(cameras):
                self.camera_of[key] = cameras[i]
            else:
                raise ValueError(f"the policy needs camera '{name}' ({key}) but the robot has only {cameras}")
        self.image_size = {k: tuple(features[k].shape[1:]) for k in self.image_keys}
        notes = []
        if self.state_dim and self.state_dim != len(joints):
            notes.append(f"state of {self.state_dim} values from {len(joints)} joints (zero-padded or cut)")
        if self.action_dim != len(joints):
            notes.append(f"{self.action_dim} actions for {len(joints)} joints (the first ones are used)")
        renamed = {k: v for k, v in self.camera_of.items() if not k.endswith("." + v)}
        if renamed:
            notes.append(f"cameras matched by order: {renamed}")
        if notes:
            log.warning("policy and robot differ: %s", "; ".join(notes))

    def __call__(self, obs: Mapping) -> dict:
        import cv2
        import torch

        batch = {}
        if self.state_dim:
            state = np.zeros(self.state_dim, dtype=np.float32)
            values = np.asarray([obs[f"{j}.pos"] for j in self.joints], dtype=np.float32)[: self.state_dim]
            state[: len(values)] = values
            batch["observation.state"] = torch.from_numpy(state)[None]
        for key, camera in self.camera_of.items():
            frame = obs[camera]
            h, w = self.image_size[key]
            if frame.shape[:2] != (h, w):
                frame = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)
            batch[key] = torch.from_numpy(np.ascontiguousarray(frame)).permute(2, 0, 1)[None].float().div_(255)
        return batch

    def actions(self, chunk: np.ndarray) -> np.ndarray:
        """(H, action_dim) -> (H, joints)."""
        out = np.zeros((chunk.shape[0], len(self.joints)), dtype=np.float64)
        n = min(chunk.shape[1], len(self.joints))
        out[:, :n] = chunk[:, :n]
        return out


class ChunkedPolicyRunner:
    """`action(obs)` once per control tick returns the next joint goals; chunks are computed ahead.

    actions_per_chunk: how many actions of each chunk may play (default: the policy's n_action_steps);
    blend_steps: length of the cross-fade between consecutive chunks.
    """

    def __init__(self, policy, joints: list[str], cameras: list[str], *, task: str | None = None,
                 actions_per_chunk: int | None = None, blend_steps: int = 4):
        self.policy, self.joints, self.task = policy, list(joints), task
        self.adapter = ObservationAdapter(policy.config, self.joints, list(cameras))
        chunk_size = int(getattr(policy.config, "chunk_size", None) or getattr(policy.config, "horizon", 1))
        self.horizon = chunk_size
        self.actions_per_chunk = int(actions_per_chunk or getattr(policy.config, "n_action_steps", chunk_size))
        self.blend_steps = blend_steps
        self._queue = np.zeros((0, len(self.joints)))
        self._tick = 0
        self._latency_ticks = 1.0
        self._request: tuple[int, dict] | None = None
        self._result: tuple[int, np.ndarray, float] | None = None
        self._pending = False  # a chunk is requested or being computed
        self._error: BaseException | None = None
        self._cond = threading.Condition()
        self._stop = False
        # The control thread must get the GIL back within a fraction of a tick while the worker runs Python code
        # (the default 5 ms hand-over is a sixth of a 30 fps period); restored on close.
        self._switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(min(self._switch_interval, 0.0005))
        self._thread = threading.Thread(target=self._work, name="policy-worker", daemon=True)
        self._thread.start()
        self.chunks = 0
        self.inference_s: list[float] = []

    # -- worker --------------------------------------------------------------------------------
    def _work(self) -> None:
        from lerobot_fn import policies

        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._request is not None or self._stop)
                if self._stop:
                    return
                tick, obs = self._request
                self._request = None
            try:
                start = time.perf_counter()
                batch = self.adapter(obs)
                if self.task is not None:
                    batch["task"] = [self.task]
                chunk = policies.predict_chunk(self.policy, batch)[0].cpu().numpy()
                result = (tick, self.adapter.actions(chunk)[: self.actions_per_chunk], time.perf_counter() - start)
            except Exception as exc:  # noqa: BLE001 (re-raised in the control thread by action())
                with self._cond:
                    self._error = exc
                    self._cond.notify_all()
                return
            with self._cond:
                self._result = result
                self._cond.notify_all()

    def _merge(self, period_s: float | None) -> None:
        tick, chunk, seconds = self._result
        self._result = None
        self._pending = False
        self.chunks += 1
        self.inference_s.append(seconds)
        if period_s:
            self._latency_ticks = 0.7 * self._latency_ticks + 0.3 * (seconds / period_s)
        self._queue = blend_chunks(self._queue, chunk, elapsed=self._tick - tick, blend_steps=self.blend_steps)

    # -- control thread ------------------------------------------------------------------------

    def action(self, obs: Mapping, *, period_s: float | None = None) -> dict[str, float]:
        """The joint goals for this tick. Waits only at the very start (no chunk yet) or if the worker
        falls so far behind that the queue is empty; `period_s` (the control period) tunes the lead."""
        with self._cond:
            if self._error is not None:
                raise RuntimeError(f"the policy failed while predicting a chunk: {self._error}") from self._error
            if self._result is not None:
                self._merge(period_s)
            if len(self._queue) == 0:
                if not self._pending:
                    self._request, self._pending = (self._tick, dict(obs)), True
                    self._cond.notify_all()
                self._cond.wait_for(lambda: self._result is not None or self._error is not None)
                if self._error is not None:
                    raise RuntimeError(f"the policy failed while predicting a chunk: {self._error}") from self._error
                self._merge(period_s)
            action, self._queue = self._queue[0], self._queue[1:]
            self._tick += 1
            if not self._pending and len(self._queue) <= request_margin(self._latency_ticks):
                # `obs` was observed at the tick just played: the new chunk's first action is meant for it
                self._request, self._pending = (self._tick - 1, dict(obs)), True
                self._cond.notify_all()
        return {f"{j}.pos": float(v) for j, v in zip(self.joints, action, strict=True)}

    def reset(self) -> None:
        """A new episode: drop what is queued (waiting for a chunk in flight, which is dropped too)."""
        with self._cond:
            if self._pending:
                self._cond.wait_for(lambda: self._result is not None or self._error is not None, timeout=60)
            self._result, self._pending, self._request = None, False, None
            self._queue, self._tick = np.zeros((0, len(self.joints))), 0

    def prime(self, obs: Mapping) -> None:
        """Compute the first chunk before the control loop starts (the arm does not wait at tick 0)."""
        with self._cond:
            if not self._pending and len(self._queue) == 0:
                self._request, self._pending = (self._tick, dict(obs)), True
                self._cond.notify_all()
            self._cond.wait_for(lambda: self._result is not None or self._error is not None)
            if self._error is None:
                self._merge(None)

    def close(self) -> None:
        with self._cond:
            self._stop = True
            self._cond.notify_all()
        self._thread.join(timeout=30)
        sys.setswitchinterval(self._switch_interval)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
