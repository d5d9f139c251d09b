"""A follower and a leader arm for an interactive front end (notebooks/robot_console.py): connect,
read the joints, switch torque, teleoperate in the background, and calibrate step by step.

One lock serialises every bus access made from the front end; while teleoperation runs, its loop
owns the buses and the joints shown are the ones it last read. `CalibrationSession` runs LeRobot's
calibration procedure (`Arm.calibrate`) in a thread and waits at each step for `proceed()`, so a
button can walk a person through it.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Self

from hardware.calibration_ui import CalibrationUI
from hardware.loops import BackgroundTeleop
from hardware.robots import KochFollower, SOFollower
from hardware.teleoperators import KochLeader, SOLeader

ARMS = {"so101": (SOFollower, SOLeader), "so100": (SOFollower, SOLeader), "koch": (KochFollower, KochLeader)}


class CalibrationSession(CalibrationUI):
    """`arm.calibrate(self)` in a background thread. `state` goes "waiting" (centre the arm, then
    `proceed()`) -> "recording" (move every joint through its range, `proceed()` to stop) ->
    "done" (`result` holds the calibration, saved to the arm's file) or "failed" (`error`)."""

    def __init__(self, arm: Any, lock: threading.Lock):
        self.arm, self._lock = arm, lock
        self.state, self.message = "starting", ""
        self.positions: dict[str, int] = {}
        self.mins: dict[str, int] = {}
        self.maxes: dict[str, int] = {}
        self.result: dict | None = None
        self.error: BaseException | None = None
        self._go = threading.Event()
        self._thread = threading.Thread(target=self._run, name="calibration", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            with self._lock:
                self.result = self.arm.calibrate(self)
            self.state = "done"
        except Exception as exc:  # noqa: BLE001 - shown to the person calibrating
            self.error, self.state = exc, "failed"

    # CalibrationUI, called from the calibration thread
    def wait(self, message: str) -> None:
        self.state, self.message = "waiting", message
        self._go.wait()
        self._go.clear()

    def start_recording(self, message: str) -> None:
        self.state, self.message = "recording", message

    def keep_recording(self, positions, mins, maxes) -> bool:
        self.positions, self.mins, self.maxes = dict(positions), dict(mins), dict(maxes)
        if self._go.wait(timeout=0.02):
            self._go.clear()
            return False
        return True

    # the front end
    def proceed(self) -> None:
        """Done with this step (the arm is centred / every joint went through its range)."""
        self._go.set()

    def ranges(self) -> list[dict]:
        """The ranges recorded so far, one row per joint (raw motor steps)."""
        return [{"joint": j, "min": self.mins.get(j), "position": p, "max": self.maxes.get(j)}
                for j, p in self.positions.items()]  # fmt: skip

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)


class RobotConsole:
    """A follower and a leader (`kind`: so101, so100 or koch) on the given ports (`sim://...` for
    the simulated arms); a context manager that disconnects both (torque off) on exit."""

    def __init__(self, follower_port: str, leader_port: str, *, kind: str = "so101", id: str = "console"):
        if kind not in ARMS:
            raise ValueError(f"unknown arm kind {kind!r}; one of {sorted(ARMS)}")
        follower_cls, leader_cls = ARMS[kind]
        self.follower = follower_cls(follower_port, id=f"{id}_follower")
        self.leader = leader_cls(leader_port, id=f"{id}_leader")
        self.teleop: BackgroundTeleop | None = None
        self.calibration: CalibrationSession | None = None
        self._lock = threading.Lock()
        self._last_joints: dict[str, dict[str, float]] = {"follower": {}, "leader": {}}

    def arms(self) -> dict[str, Any]:
        return {"follower": self.follower, "leader": self.leader}

    def connect(self) -> None:
        """Connect both arms. Simulated arms without a calibration file are calibrated by the
        simulated hand; a real one stays uncalibrated until `calibrate()` (no terminal prompt)."""
        from hardware.sim import is_sim_port

        with self._lock:
            for arm in self.arms().values():
                if not arm.is_connected:
                    arm.connect(calibrate=is_sim_port(arm.port))
        atexit.register(self.disconnect)  # a notebook server that stops leaves no motor under torque

    @property
    def is_connected(self) -> bool:
        return self.follower.is_connected and self.leader.is_connected

    def joints(self) -> dict[str, dict[str, float]]:
        """{"follower": {joint: position}, "leader": {...}} in the arms' normalised units."""
        if self.teleop is not None and self.teleop.running:
            obs, act = self.teleop.last_observation, self.teleop.last_action
            return {"follower": {k.removesuffix(".pos"): float(v) for k, v in obs.items() if k.endswith(".pos")},
                    "leader": {k.removesuffix(".pos"): float(v) for k, v in act.items()}}  # fmt: skip
        if not self._lock.acquire(timeout=0.1):  # a calibration holds the buses: the last reading
            return self._last_joints
        try:
            out = {}
            for name, arm in self.arms().items():
                if not arm.calibration:
                    out[name] = {}
                    continue
                read = arm.bus.sync_read("Present_Position", num_retry=2)
                out[name] = {j: float(v) for j, v in read.items()}
        finally:
            self._lock.release()
        self._last_joints = out
        return out

    @contextmanager
    def _buses(self) -> Iterator[None]:
        """Hold the buses, or a clear error when a calibration or teleoperation holds them."""
        if not self._lock.acquire(timeout=1.0):
            raise RuntimeError("the arms are busy (a calibration or teleoperation is running)")
        try:
            yield
        finally:
            self._lock.release()

    def set_torque(self, on: bool) -> None:
        """Torque on (the follower holds its position) or off (it can be moved by hand)."""
        with self._buses():
            if on:
                self.follower.bus.enable_torque()
            else:
                self.follower.bus.disable_torque()

    def torque(self) -> bool:
        with self._buses():
            values = self.follower.bus.sync_read("Torque_Enable", normalize=False, num_retry=2)
        return all(bool(v) for v in values.values())

    def start_teleop(self, fps: int = 30) -> None:
        """The follower follows the leader in a background loop."""
        if self.calibration is not None and self.calibration.state in ("waiting", "recording"):
            raise RuntimeError("a calibration is in progress; finish it before teleoperating")
        self._lock.acquire()  # the loop owns the buses until stop_teleop
        try:
            self.teleop = BackgroundTeleop(self.follower, self.leader, fps=fps)
            self.teleop.start()
        except BaseException:
            self._lock.release()
            raise

    def stop_teleop(self):
        """Stop teleoperation; its loop statistics (or None when it was not running)."""
        if self.teleop is None:
            return None
        try:
            stats = self.teleop.stop()
            if self.teleop.error is not None:
                raise RuntimeError(
                    f"teleoperation stopped on an error: {self.teleop.error}"
                ) from self.teleop.error
            return stats
        finally:
            self.teleop = None
            self._lock.release()

    def calibrate(self, which: str) -> CalibrationSession:
        """Start a step-by-step calibration of "follower" or "leader" (replaces its file)."""
        if self.teleop is not None:
            raise RuntimeError("stop teleoperation before calibrating")
        self.calibration = CalibrationSession(self.arms()[which], self._lock)
        return self.calibration

    def disconnect(self) -> None:
        """Stop teleoperation, then torque off and close both ports; safe to call twice."""
        atexit.unregister(self.disconnect)
        try:
            self.stop_teleop()
        finally:
            for arm in self.arms().values():
                arm.disconnect()

    def __enter__(self) -> Self:
        self.connect()
        return self

    def __exit__(self, *exc) -> None:
        self.disconnect()
