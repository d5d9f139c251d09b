"""Control-loop timing at 30 fps, ours vs LeRobot 0.6.1 in the same run, on simulated SO-101 arms.

Two scenarios, each measured for `--seconds` with the same simulated follower (and leader) served by
`python -m hardware.sim` on ptys and two 640x480 synthetic cameras (a moving pattern produced at 30 fps
by a background thread, the same generator on both sides):

  record   leader -> follower teleoperation recorded into a dataset.
           ours: `hardware.loops.record_session` (lerobot_fn writer, background AV1 encoders);
           LeRobot: `lerobot.scripts.lerobot_record.record_loop` with SO101Follower / SO101Leader and
           `LeRobotDataset.create` as `lerobot-record` sets it up (4 image-writer threads per camera).
  policy   the ACT fixture policy (shared/fixtures/policies/act_aloha_mini: 2 cameras 48x64, state and
           action of 14; the 6 joints are zero-padded into the state, the first 6 actions drive them).
           ours: `hardware.policy_runner.ChunkedPolicyRunner` (chunks computed ahead in a worker process,
           torch 1 thread; `--worker thread` for the in-process worker thread);
           LeRobot: its synchronous rollout step (`predict_action` = preprocessor, `select_action`,
           postprocessor inside the tick) with SO101Follower and `precise_sleep`, as
           `lerobot.rollout.inference.sync` does.

The period is measured tick to tick (ours: the ticker; LeRobot: time between `get_observation` calls).
Reported: p50 / p99 / max period, and ticks over budget (33.3 ms + 2 ms) and over 33.3 ms.

`--reply-margin-ms` is how long our buses wait for a status packet (default: the vendor's 50 ms, as
LeRobot's buses). It only bounds a late reply and costs nothing when replies come in time, so the numbers
stay comparable; raise it on a loaded machine, where the simulator processes may not run for longer
than 50 ms and a read would fail (LeRobot's side keeps its own 50 ms).

    .venv/bin/python benchmarks/bench_control_loop.py --seconds 20 --json /tmp/control_loop.json
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
LEROBOT_PY = REPO / ".lerobot-venv" / "bin" / "python"
FIXTURE = REPO.parent / "shared" / "fixtures" / "policies" / "act_aloha_mini" / "pretrained_model"
JOINTS = ["shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper"]
FPS = 30

LEROBOT_SIDE = r'''
import json, sys, threading, time
from pathlib import Path
import numpy as np

mode, follower_port, leader_port, cal_dir, seconds, out_dir, fixture = sys.argv[1:8]
seconds = float(seconds)
FPS = 30


class SyntheticCamera:  # the same moving pattern as hardware.cameras.SyntheticCamera, as a LeRobot camera
    def __init__(self, width=640, height=480, fps=30):
        self.width, self.height, self.fps = width, height, fps
        ys, xs = np.mgrid[0:height, 0:2 * width]
        self._base = np.stack([(xs + ys) % 256, (2 * xs) % 256, (3 * ys) % 256], axis=-1).astype(np.uint8)
        self._frame, self._stop, self.is_connected = None, threading.Event(), False

    def connect(self, warmup=True):
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        while self._frame is None:
            time.sleep(0.001)
        self.is_connected = True

    def _run(self):
        k, nxt = 0, time.perf_counter()
        while not self._stop.is_set():
            shift = (k * 4) % self.width
            frame = np.ascontiguousarray(self._base[:, shift:shift + self.width])
            frame[200:260, (k * 4) % 560:(k * 4) % 560 + 60] = 255
            self._frame = frame
            k += 1
            nxt += 1 / self.fps
            time.sleep(max(0.0, nxt - time.perf_counter()))

    def read_latest(self, max_age_ms=1000):
        return self._frame

    async_read = read = read_latest

    def disconnect(self):
        self._stop.set()
        self.is_connected = False


from lerobot.robots.so_follower import SO101Follower, SO101FollowerConfig

robot = SO101Follower(SO101FollowerConfig(port=follower_port, id="bench", calibration_dir=Path(cal_dir) / "f"))
cam_names = ["front", "wrist"] if mode == "record" else ["top", "left_wrist"]
robot.cameras = {n: SyntheticCamera() for n in cam_names}
stamps = []
original = robot.get_observation


def timed_observation():
    stamps.append(time.perf_counter())
    return original()


robot.get_observation = timed_observation
robot.connect(calibrate=False)
try:
    if mode == "record":
        from lerobot.datasets.lerobot_dataset import LeRobotDataset
        from lerobot.processor import make_default_processors
        from lerobot.scripts.lerobot_record import record_loop
        from lerobot.teleoperators.so_leader import SO101Leader, SO101LeaderConfig
        from lerobot.utils.feature_utils import hw_to_dataset_features

        leader = SO101Leader(SO101LeaderConfig(port=leader_port, id="bench", calibration_dir=Path(cal_dir) / "l"))
        leader.connect(calibrate=False)
        features = {**hw_to_dataset_features(robot.action_features, "action", True),
                    **hw_to_dataset_features(robot.observation_features, "observation", True)}
        dataset = LeRobotDataset.create("bench/lerobot", FPS, root=Path(out_dir) / "lerobot_ds", robot_type=robot.name,
                                        features=features, use_videos=True, image_writer_threads=4 * len(robot.cameras))
        t, r, o = make_default_processors()
        record_loop(robot=robot, events={"exit_early": False, "stop_recording": False, "rerecord_episode": False},
                    fps=FPS, teleop_action_processor=t, robot_action_processor=r, robot_observation_processor=o,
                    dataset=dataset, teleop=leader, control_time_s=seconds, single_task="bench")
        start = time.perf_counter()
        dataset.save_episode()
        save_s = time.perf_counter() - start
        dataset.finalize()
        leader.disconnect()
    else:
        import cv2
        import torch
        from lerobot.common.control_utils import predict_action
        from lerobot.policies.act.modeling_act import ACTPolicy
        from lerobot.policies.factory import make_pre_post_processors
        from lerobot.utils.robot_utils import precise_sleep

        torch.set_num_threads(1)
        policy = ACTPolicy.from_pretrained(fixture)
        pre, post = make_pre_post_processors(policy.config, pretrained_path=fixture)
        policy.reset()
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            start = time.perf_counter()
            obs = robot.get_observation()
            state = np.zeros(14, dtype=np.float32)
            state[:6] = [obs[f"{j}.pos"] for j in ["shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex",
                                                   "wrist_roll", "gripper"]]
            frame = {"observation.state": state}
            for name in cam_names:
                frame[f"observation.images.{name}"] = cv2.resize(obs[name], (64, 48), interpolation=cv2.INTER_AREA)
            action = predict_action(frame, policy, torch.device("cpu"), pre, post, use_amp=False, task="bench")
            values = action.squeeze(0).tolist()
            robot.send_action({f"{j}.pos": values[i] for i, j in enumerate(["shoulder_pan", "shoulder_lift",
                               "elbow_flex", "wrist_flex", "wrist_roll", "gripper"])})
            precise_sleep(max(0.0, 1 / FPS - (time.perf_counter() - start)))
finally:
    robot.disconnect()
extra = {"save_episode_s": round(save_s, 2)} if mode == "record" else {}
print(json.dumps({"periods": [b - a for a, b in zip(stamps, stamps[1:])], **extra}))
'''


def run(cmd, *, timeout, env=None):
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env=env)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:3]} failed:\n{err[-4000:]}")
    return out.strip().splitlines()[-1]


def start_sim(robot: str, link: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "hardware.sim", "--robot", robot, "--link", str(link)],
                            cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 30
    while not link.is_symlink() and time.monotonic() < deadline:
        time.sleep(0.05)
    return proc


def calibrate(port: Path, cal_file: Path, reply_margin_ms: float | None = None) -> None:
    """Centre the arm, give every joint a +-900 tick range, and save LeRobot's file for it."""
    from hardware import calibration_files
    from hardware.motors import Motor
    from hardware.motors.feetech import FeetechBus
    from lerobot_fn.robot import MotorCalibration, NormMode

    motors = {j: Motor(i + 1, "sts3215", NormMode.DEGREES) for i, j in enumerate(JOINTS)}
    with FeetechBus(str(port), motors, reply_margin_ms=reply_margin_ms) as bus:
        bus.disable_torque()
        homings = bus.set_half_turn_homings()
        cal = {j: MotorCalibration(i + 1, 0, homings[j], 1147, 2947) for i, j in enumerate(JOINTS)}
        bus.write_calibration(cal)
    calibration_files.save(cal_file, cal)


def stats_of(periods):
    from lerobot_fn.robot import loop_stats

    s = loop_stats(periods, FPS)
    return {"ticks": s.n, "p50_ms": round(s.p50_ms, 2), "p99_ms": round(s.p99_ms, 2), "max_ms": round(s.max_ms, 2),
            "over_budget_2ms": s.over_budget, "over_33ms": sum(1 for p in periods if p * 1000 > 1000 / FPS + 0.5)}


class TickTrace:
    """Times each phase of every tick (observe, act, send, frame) by wrapping the robot's methods and the
    loop's callbacks, to say what a late tick was doing: the tick before it overran (which phase), or
    the loop woke up late (the OS or another thread kept it from running)."""

    PHASES = ("observe", "act", "send", "frame")

    def __init__(self, robot, runner=None):
        import gc

        self.rows: list[dict] = []  # per tick: start time, each phase's duration, runner state
        self.runner = runner
        self.collections: list[tuple[float, float, int]] = []  # the garbage collector's runs: start, end, generation
        self._gc_start = 0.0

        def on_gc(phase, info):
            if phase == "start":
                self._gc_start = time.perf_counter()
            else:
                self.collections.append((self._gc_start, time.perf_counter(), info["generation"]))

        gc.callbacks.append(on_gc)
        observe, send = robot.get_observation, robot.send_action

        def traced_observe():
            row = {"start": time.perf_counter(), "in_flight": runner is not None and runner._sent_at is not None,
                   "chunks": runner.chunks if runner is not None else 0}
            self.rows.append(row)
            return self._timed("observe", observe)

        robot.get_observation = traced_observe
        robot.send_action = lambda action: self._timed("send", send, action)

    def _timed(self, phase, fn, *args):
        start = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.rows[-1][phase] = time.perf_counter() - start

    def wrap(self, phase, fn):
        return lambda *args: self._timed(phase, fn, *args)

    def late_ticks(self, limit_ms: float = 1000 / FPS + 0.5) -> dict:
        """Every period over `limit_ms`: how late, and what the tick before it spent its time on."""
        budget = 1 / FPS
        late, causes = [], {"overrun": 0, "woke late": 0}
        for k in range(1, len(self.rows)):
            prev, period = self.rows[k - 1], self.rows[k]["start"] - self.rows[k - 1]["start"]
            if period * 1000 <= limit_ms:
                continue
            work = {p: round(1000 * prev.get(p, 0.0), 2) for p in self.PHASES}
            busy = sum(prev.get(p, 0.0) for p in self.PHASES)
            cause = "overrun" if busy > budget else "woke late"
            causes[cause] += 1
            start, end = self.rows[k - 1]["start"], self.rows[k]["start"]
            gc_ms = {f"gen{g}": round(1000 * (b - a), 2) for a, b, g in self.collections if start <= a < end}
            late.append({"tick": k, "period_ms": round(1000 * period, 2), "cause": cause, "work_ms": work, "gc_ms": gc_ms,
                         "idle_ms": round(1000 * (period - busy), 2), "chunk_in_flight": prev["in_flight"],
                         "chunk_merged": self.rows[k]["chunks"] > prev["chunks"]})
        gcs = [1000 * (b - a) for a, b, _ in self.collections]
        return {"late_causes": causes, "gc_runs": len(gcs), "gc_max_ms": round(max(gcs, default=0.0), 2),
                "late": late[:40]}


def ours(mode: str, follower: Path, leader: Path, cal: Path, seconds: float, out: Path, worker: str = "process",
         reply_margin_ms: float | None = None) -> dict:
    from hardware.cameras import CameraConfig
    from hardware.loops import control_loop, dataset_features, dataset_frame
    from hardware.robots import SOFollower
    from hardware.teleoperators import SOLeader
    from lerobot_fn import data

    cam = CameraConfig(type="synthetic", width=640, height=480, fps=FPS)
    names = ["front", "wrist"] if mode == "record" else ["top", "left_wrist"]
    robot = SOFollower(str(follower), id="bench", calibration_dir=cal / "f", cameras=dict.fromkeys(names, cam),
                       reply_margin_ms=reply_margin_ms)
    ticks: list[float] = []
    if mode == "record":
        # the writer first: its encoder processes start while the arms connect and the cameras warm up
        with data.create(out / "ours_ds", fps=FPS, features=dataset_features(robot), robot_type="so_follower") as writer, \
                robot, SOLeader(str(leader), id="bench", calibration_dir=cal / "l", reply_margin_ms=reply_margin_ms) as arm:
            trace = TickTrace(robot)
            control_loop(robot, trace.wrap("act", lambda obs: arm.get_action()), fps=FPS, duration_s=seconds,
                         periods_out=ticks, on_frame=trace.wrap(
                             "frame", lambda obs, sent: writer.add_frame(dataset_frame(robot, obs, sent, "bench"))))
            start = time.perf_counter()
            writer.save_episode()
            return {**stats_of(ticks), "save_episode_s": round(time.perf_counter() - start, 2), **trace.late_ticks()}
    if worker == "none":  # the same loop and cameras without a policy: what the loop itself costs
        with robot:
            hold = robot.read_joints()
            trace = TickTrace(robot)
            control_loop(robot, trace.wrap("act", lambda obs: hold), fps=FPS, duration_s=seconds, periods_out=ticks)
        return {**stats_of(ticks), **trace.late_ticks()}
    from hardware.policy_runner import ChunkedPolicyRunner

    with robot, ChunkedPolicyRunner(FIXTURE, robot.joints, names, worker=worker, torch_threads=1) as runner:
        runner.prime(robot.get_observation())  # the first chunk is ready before the clock starts
        trace = TickTrace(robot, runner)
        control_loop(robot, trace.wrap("act", lambda obs: runner.action(obs, period_s=1 / FPS)), fps=FPS,
                     duration_s=seconds, periods_out=ticks)
        inference = sorted(runner.inference_s)
    return {**stats_of(ticks), "chunks": len(inference), "holds": runner.holds, "inference_p50_ms": round(1000 * inference[len(inference) // 2], 1),
            "torch_in_loop_process": "torch" in sys.modules, **trace.late_ticks()}


def lerobot(mode: str, follower: Path, leader: Path, cal: Path, seconds: float, out: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    line = run([str(LEROBOT_PY), "-c", LEROBOT_SIDE, mode, str(follower), str(leader), str(cal), str(seconds),
                str(out), str(FIXTURE)], timeout=seconds * 10 + 300, env=env)
    result = json.loads(line)
    return {**stats_of(result.pop("periods")), **result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--only", choices=("record", "policy"))
    parser.add_argument("--sides", choices=("both", "ours"), default="both",
                        help="ours: lerobot-fn only (for investigating; recorded numbers use both)")
    parser.add_argument("--worker", choices=("process", "thread", "none"), default="process",
                        help="where our runner predicts chunks (policy scenario); none: no policy, the arm "
                             "holds still (the loop's own cost, for comparison)")
    parser.add_argument("--reply-margin-ms", type=float, default=None,
                        help="how long our buses wait for a motor's reply beyond its transfer time (default: the "
                             "vendor's 50 ms, as LeRobot); raise it on a loaded machine")
    args = parser.parse_args()
    if args.sides == "both" and not LEROBOT_PY.exists():
        sys.exit(f"LeRobot 0.6.1 is needed: create {LEROBOT_PY.parent.parent} with lerobot[feetech]==0.6.1")
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        sims = [start_sim("so101_follower", tmp / "follower"), start_sim("so101_leader", tmp / "leader")]
        try:
            calibrate(tmp / "follower", tmp / "cal" / "f" / "bench.json", args.reply_margin_ms)
            calibrate(tmp / "leader", tmp / "cal" / "l" / "bench.json", args.reply_margin_ms)
            for mode in [args.only] if args.only else ["record", "policy"]:
                for name, fn in (("lerobot_fn", ours), ("lerobot_0.6.1", lerobot))[: 1 if args.sides == "ours" else 2]:
                    out = tmp / f"{mode}_{name}"
                    out.mkdir()
                    extra = {"reply_margin_ms": args.reply_margin_ms} if fn is ours else {}
                    if fn is ours and mode == "policy":
                        extra["worker"] = args.worker
                    results[f"{mode}/{name}"] = fn(mode, tmp / "follower", tmp / "leader", tmp / "cal", args.seconds, out,
                                                   **extra)
                    shown = {k: v for k, v in results[f"{mode}/{name}"].items() if k != "late"}
                    print(f"{mode:7s} {name:14s} {shown}", flush=True)
        finally:
            for proc in sims:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=20)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
