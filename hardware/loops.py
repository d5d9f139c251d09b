"""The control loops the jobs (and your own scripts) run: a fixed-rate observe -> act -> send loop, and
the record session built on it (episodes, resets, re-record / stop, background episode saving)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping

import numpy as np

from lerobot_fn.robot import LoopStats, Ticker, loop_stats

log = logging.getLogger(__name__)

ActionSource = Callable[[Mapping], Mapping[str, float]]


def control_loop(robot, action_source: ActionSource | None, *, fps: int, duration_s: float | None,
                 on_frame: Callable[[dict, dict], None] | None = None, should_stop: Callable[[], bool] | None = None,
                 display_every_s: float = 0.0, display=print, periods_out: list | None = None) -> LoopStats:
    """Every 1/fps s: observe, ask `action_source(obs)` for goals (None: hold still), send them, hand
    (observation, sent action) to `on_frame`; `duration_s * fps` ticks (or until `should_stop`). Ticks keep
    absolute deadlines; returns their jitter (and appends every period, in s, to `periods_out`)."""
    ticker = Ticker(fps)
    ticks = None if duration_s is None else max(1, round(duration_s * fps))  # frames of the episode
    next_display = time.perf_counter() + display_every_s
    done = 0
    while ticks is None or done < ticks:
        now = ticker.tick()
        done += 1
        obs = robot.get_observation()
        sent = robot.send_action(action_source(obs)) if action_source is not None else {}
        if on_frame is not None:
            on_frame(obs, sent)
        if display_every_s and now >= next_display:
            next_display = now + display_every_s
            display("  ".join(f"{k.removesuffix('.pos')} {v:7.2f}" for k, v in obs.items() if k.endswith(".pos")))
        if should_stop is not None and should_stop():
            break
    if periods_out is not None:
        periods_out.extend(ticker.periods)
    return loop_stats(ticker.periods, fps)


def dataset_features(robot, *, use_videos: bool = True) -> dict[str, dict]:
    """LeRobot's features for a follower: state and action named by joint, one video per camera."""
    names = [f"{j}.pos" for j in robot.joints]
    features = {
        "action": {"dtype": "float32", "shape": (len(names),), "names": names},
        "observation.state": {"dtype": "float32", "shape": (len(names),), "names": names},
    }
    for name, cam in robot.camera_configs.items():
        features[f"observation.images.{name}"] = {"dtype": "video" if use_videos else "image",
                                                  "shape": (cam.height, cam.width, 3),
                                                  "names": ["height", "width", "channels"]}
    return features


def dataset_frame(robot, obs: Mapping, sent: Mapping[str, float], task: str) -> dict:
    names = [f"{j}.pos" for j in robot.joints]
    frame = {"observation.state": np.asarray([obs[n] for n in names], dtype=np.float32),
             "action": np.asarray([sent[n] for n in names], dtype=np.float32), "task": task}
    for name in robot.camera_configs:
        frame[f"observation.images.{name}"] = obs[name]
    return frame


class EpisodeSaver:
    """Saves an episode in a background thread (video encoding finishes, files are committed) while the
    reset period's teleoperation goes on; `wait()` re-raises a failure."""

    def __init__(self, writer):
        self.writer = writer
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self.saved: list[int] = []

    def start(self) -> None:
        self.wait()

        def run():
            from .threads import yield_to_control_loop

            yield_to_control_loop()
            try:
                self.saved.append(self.writer.save_episode())
            except BaseException as exc:  # noqa: BLE001 (re-raised by wait)
                self._error = exc

        self._thread = threading.Thread(target=run, name="save-episode")
        self._thread.start()

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error


def record_session(robot, writer, action_source: ActionSource, *, fps: int, num_episodes: int, episode_time_s: float,
                   reset_time_s: float, task: str, controls, reset_source: ActionSource | None = None,
                   on_episode_start: Callable[[], None] | None = None, say=log.info,
                   periods_out: list | None = None) -> dict:
    """Record until `writer` holds `num_episodes` episodes or the user stops; each episode is saved in the
    background while the next reset period runs. Returns the number recorded and each episode's loop stats."""
    saver = EpisodeSaver(writer)
    stats: list[LoopStats] = []
    try:
        while not controls.stop_recording:
            saver.wait()
            episode = writer.total_episodes
            if episode >= num_episodes:
                break
            say(f"recording episode {episode + 1} of {num_episodes} for {episode_time_s:g} s")
            if on_episode_start is not None:
                on_episode_start()
            controls.exit_early = False
            stats.append(control_loop(
                robot, action_source, fps=fps, duration_s=episode_time_s,
                on_frame=lambda obs, sent: writer.add_frame(dataset_frame(robot, obs, sent, task)),
                should_stop=lambda: controls.exit_early, periods_out=periods_out))
            if controls.rerecord_episode or not writer.episode_frames:
                writer.discard_episode()
                if controls.rerecord_episode:
                    controls.rerecord_episode = False
                    say(f"re-recording episode {episode + 1}")
                continue
            saver.start()
            if episode + 1 < num_episodes and not controls.stop_recording and reset_time_s > 0:
                say(f"reset the scene ({reset_time_s:g} s)")
                controls.exit_early = False
                control_loop(robot, reset_source, fps=fps, duration_s=reset_time_s,
                             should_stop=lambda: controls.exit_early)
    finally:
        saver.wait()
    return {"episodes_recorded": len(saver.saved), "loop": [stats_dict(s) for s in stats]}


def stats_dict(stats: LoopStats) -> dict:
    return {"ticks": stats.n, "p50_ms": round(stats.p50_ms, 3), "p99_ms": round(stats.p99_ms, 3),
            "max_ms": round(stats.max_ms, 3), "over_budget": stats.over_budget}


class BackgroundTeleop:
    """Teleoperation in a background thread, for notebooks and GUIs: `start()`, `stop()`, and
    `last_observation` / `last_action` for a live display. The caller keeps the arms connected."""

    def __init__(self, robot, teleop, *, fps: int = 30):
        self.robot, self.teleop, self.fps = robot, teleop, fps
        self.last_observation: dict = {}
        self.last_action: dict = {}
        self.stats: LoopStats | None = None
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self.error = None

        def frame(obs, sent):
            self.last_observation, self.last_action = obs, sent

        def run():
            try:
                self.stats = control_loop(self.robot, lambda obs: self.teleop.get_action(), fps=self.fps,
                                          duration_s=None, on_frame=frame, should_stop=self._stop.is_set)
            except Exception as exc:  # noqa: BLE001 (kept for the caller: a notebook shows it)
                self.error = exc

        self._thread = threading.Thread(target=run, name="teleop", daemon=True)
        self._thread.start()

    def stop(self) -> LoopStats | None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self.error is not None:
            raise self.error
        return self.stats
