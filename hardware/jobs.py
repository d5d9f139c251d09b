"""The hardware jobs of `lerobot-run`: each wires the shells and loops together and returns a summary."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from lerobot_fn.specs import RunContext

from . import build
from .loops import control_loop, dataset_features, record_session, stats_dict
from .specs import (
    CalibrateSpec,
    FindCamerasSpec,
    FindPortSpec,
    RecordSpec,
    ReplaySpec,
    RunPolicySpec,
    SetupMotorsSpec,
    TeleoperateSpec,
)


def _serial_ports() -> list[str]:
    from serial.tools import list_ports

    return sorted(p.device for p in list_ports.comports())


def find_port(spec: FindPortSpec, ctx: RunContext) -> dict:
    """LeRobot's find-port: list the ports, ask to unplug the arm, report the one that disappeared."""
    import sys

    before = _serial_ports()
    ctx.log.info("serial ports: %s", ", ".join(before) or "none")
    if not sys.stdin.isatty():
        ctx.log.info("no terminal to ask you to unplug the arm: listing the ports only")
        return {"ports": before}
    input("Remove the USB cable from the arm's controller board and press Enter when done. ")
    time.sleep(0.5)
    gone = sorted(set(before) - set(_serial_ports()))
    if len(gone) != 1:
        raise RuntimeError(f"could not tell the arm's port: ports that disappeared: {gone or 'none'}; "
                           "unplug only the arm's cable and try again")
    ctx.log.info("the arm's port is %s; reconnect the cable", gone[0])
    return {"ports": before, "port": gone[0]}


def find_cameras(spec: FindCamerasSpec, ctx: RunContext) -> dict:
    from .cameras import find_cameras as scan

    found = scan()
    for cam in found:
        ctx.log.info("camera %s: %dx%d @ %g fps", cam["index_or_path"], cam["width"], cam["height"], cam["fps"])
    if not found:
        ctx.log.info("no camera found")
    return {"cameras": found}


def _prompt_for(port: str, ctx: RunContext):
    from .sim import is_sim_port, open_sim

    if is_sim_port(port):
        chain = open_sim(port).chain

        def sim_prompt(joint: str) -> None:
            ctx.log.info("connect only the '%s' motor (simulated: plugged in)", joint)
            chain.attach_only(joint)

        return sim_prompt, chain.attach_all
    return (lambda joint: input(f"Connect the controller board to the '{joint}' motor only and press Enter. ")), None


def setup_motors(spec: SetupMotorsSpec, ctx: RunContext) -> dict:
    arm = build.arm_from(spec.arm)
    prompt, done = _prompt_for(spec.arm.port, ctx)
    try:
        arm.setup_motors(prompt)
    finally:
        if done is not None:
            done()
    ids = {j: m.id for j, m in arm.bus.motors.items()}
    ctx.log.info("motor ids set: %s, at %d bps", ids, arm.bus.default_baudrate)
    return {"ids": ids, "baudrate": arm.bus.default_baudrate}


def calibrate(spec: CalibrateSpec, ctx: RunContext) -> dict:
    from .calibration_ui import TimedUI

    arm = build.arm_from(spec.arm)
    ui = TimedUI(spec.range_time_s, log=ctx.log.info) if spec.range_time_s else None
    arm.bus.connect()
    try:
        calibration = arm.calibrate(ui or arm.default_ui())
        arm.configure()
    finally:
        arm.disconnect()
    ctx.log.info("calibration saved to %s", arm.calibration_path)
    return {"calibration_file": str(arm.calibration_path),
            "ranges": {j: [c.range_min, c.range_max] for j, c in calibration.items()}}


def teleoperate(spec: TeleoperateSpec, ctx: RunContext) -> dict:
    robot = build.robot_from(spec.robot)
    teleop = build.teleop_from(spec.teleop, robot.joints)
    with contextlib.ExitStack() as stack:
        stack.enter_context(robot)
        stack.enter_context(_connected(teleop, robot))
        ctx.log.info("teleoperating %s with %s at %d fps%s", robot, teleop, spec.fps,
                     f" for {spec.duration_s:g} s" if spec.duration_s else " (Ctrl-C to stop)")
        stats = control_loop(robot, lambda obs: teleop.get_action(), fps=spec.fps, duration_s=spec.duration_s,
                             display_every_s=spec.display_every_s, display=ctx.log.info)
    ctx.log.info("loop: %s", stats.summary())
    return {"loop": stats_dict(stats)}


@contextlib.contextmanager
def _connected(teleop, robot):
    """Connect a teleoperator (a keyboard or gamepad starts from the robot's present joints)."""
    if hasattr(teleop, "attach"):
        teleop.attach(robot.read_joints())
    else:
        teleop.connect()
    try:
        yield teleop
    finally:
        teleop.disconnect()


def _runner(options, robot, task, ctx: RunContext):
    """The chunked runner; its worker starts loading the policy now (in its own process by default), while
    the robot connects; `prime` waits for it."""
    from .policy_runner import ChunkedPolicyRunner
    from .sample_policy import resolve_policy_path

    path = resolve_policy_path(options.path)
    ctx.log.info("loading policy %s on %s (in a %s)", path, options.device, options.worker)
    return ChunkedPolicyRunner(path, robot.joints, list(robot.cameras), task=task,
                               actions_per_chunk=options.actions_per_chunk, blend_steps=options.blend_steps,
                               worker=options.worker, device=options.device, torch_threads=options.torch_threads)


def dataset_root(repo_id: str, root: str | None) -> Path:
    from lerobot_fn.data import lerobot_home

    return Path(root) if root else lerobot_home() / repo_id


def _open_writer(spec: RecordSpec, robot, root: Path, resume: bool, ctx: RunContext):
    from lerobot_fn import data

    features = dataset_features(robot, use_videos=spec.dataset.video)
    if resume and (root / "meta" / "info.json").is_file():
        writer = data.resume(root)
        want = {k: tuple(v["shape"]) for k, v in features.items()}
        have = {k: tuple(f.shape) for k, f in writer.features.items() if k.startswith(("observation.", "action"))}
        if want != have:
            writer.finalize()
            raise ValueError(f"cannot resume {root}: its features {have} differ from this robot's {want}")
        ctx.log.info("resuming %s: %d episodes already recorded", root, writer.total_episodes)
        return writer
    try:
        return data.create(root, fps=spec.dataset.fps, features=features, robot_type=robot.layout.name,
                           use_videos=spec.dataset.video)
    except FileExistsError:
        raise FileExistsError(f"the dataset {root} already exists: set resume = true to add episodes to it "
                              "(or `lerobot-run --resume RUN_DIR`), or choose another dataset.repo_id / root") from None


def _restart(runner, robot) -> None:
    """A new episode: forget the last one's chunks and have the first chunk ready before the clock starts."""
    runner.reset()
    runner.prime(robot.get_observation())


def record(spec: RecordSpec, ctx: RunContext) -> dict:
    if spec.teleop is None and spec.policy is None:
        raise ValueError("record needs a [teleop] table (a person drives the robot) or a [policy] table")
    options = spec.dataset
    root = dataset_root(options.repo_id, options.root)
    existed = (root / "meta" / "info.json").is_file()
    try:
        summary, total = _record(spec, ctx, root)
    finally:
        if not existed:
            _remove_if_empty(root, ctx)
    ctx.log.info("dataset %s: %d episodes", root, total)
    url = _push(root, options, total, ctx) if options.push_to_hub else None
    return {"dataset": str(root), "total_episodes": total, **summary, "pushed": url}


def _push(root: Path, options, total: int, ctx: RunContext) -> str | None:
    """LeRobot's end of `record`: upload when episodes were saved (else a warning). A failed upload
    keeps the dataset as it is and says how to push it later."""
    from lerobot_fn.data.push import push

    if total == 0:
        ctx.log.warning("no episode saved: %s is not pushed to the Hub", root)
        return None
    try:
        url = push(root, options.repo_id, private=options.private, tags=list(options.tags))
    except Exception as exc:
        raise RuntimeError(
            f"the dataset is saved in {root} ({total} episodes), but pushing it to the Hub as {options.repo_id} "
            f"failed: {exc}. Check `huggingface-cli login` and the network, then push it with `lerobot-run "
            f"specs/dataset_push.toml --set dataset={root} --set repo_id={options.repo_id}`") from exc
    ctx.log.info("pushed to %s", url)
    return url


def _remove_if_empty(root: Path, ctx: RunContext) -> None:
    """A dataset this run created and saved no episode in goes away (a rerun must not need resume = true)."""
    import json
    import shutil

    try:
        empty = json.loads((root / "meta" / "info.json").read_text()).get("total_episodes", 0) == 0
    except (OSError, ValueError):
        empty = False
    if empty:
        shutil.rmtree(root, ignore_errors=True)
        ctx.log.info("removed %s: no episode was saved", root)


def _record(spec: RecordSpec, ctx: RunContext, root: Path) -> tuple[dict, int]:
    from .teleoperators.keys import RecordControls

    options = spec.dataset
    robot = build.robot_from(spec.robot)
    teleop = build.teleop_from(spec.teleop, robot.joints) if spec.teleop else None
    with contextlib.ExitStack() as stack:
        # the writer and the policy first: encoders and the policy load while the arms connect and cameras warm up
        writer = stack.enter_context(_open_writer(spec, robot, root, spec.resume or ctx.resume, ctx))
        runner = stack.enter_context(_runner(spec.policy, robot, options.single_task, ctx)) if spec.policy else None
        stack.enter_context(robot)
        if teleop is not None:
            stack.enter_context(_connected(teleop, robot))
        controls = RecordControls()
        if getattr(teleop, "other_keys", False) is None:  # the keyboard teleop owns the terminal: share it
            teleop.other_keys = controls.press
        elif spec.keyboard_controls:
            controls.listen()
        stack.callback(controls.close)
        teleop_source = (lambda obs: teleop.get_action()) if teleop is not None else None
        if runner is not None:
            def source(obs):
                return runner.action(obs, period_s=1 / options.fps)
        else:
            source = teleop_source
        summary = record_session(
            robot, writer, source, fps=options.fps, num_episodes=options.num_episodes,
            episode_time_s=options.episode_time_s, reset_time_s=options.reset_time_s, task=options.single_task,
            controls=controls, reset_source=teleop_source,
            on_episode_start=(lambda: _restart(runner, robot)) if runner else None, say=ctx.log.info)
        return summary, writer.total_episodes


def replay(spec: ReplaySpec, ctx: RunContext) -> dict:
    import numpy as np

    from lerobot_fn.data import DatasetMeta
    from lerobot_fn.data.meta import read_parquet

    root = dataset_root(spec.repo_id, spec.root)
    meta = DatasetMeta.load(root)
    if spec.episode not in meta.episode_indices:
        raise ValueError(f"{root} has no episode {spec.episode}; it has {meta.total_episodes} "
                         f"(0..{meta.total_episodes - 1})")
    table = read_parquet(root / meta.data_file(spec.episode), columns=["episode_index", "action", "observation.state"])
    rows = np.asarray(table.column("episode_index").to_numpy()) == spec.episode
    actions = np.stack(table.column("action").to_numpy(zero_copy_only=False))[rows]
    recorded = np.stack(table.column("observation.state").to_numpy(zero_copy_only=False))[rows]
    names = meta.features["action"].names
    robot = build.robot_from(spec.robot)
    robot.camera_configs, robot.cameras = {}, {}  # replay needs no camera
    if list(names) != [f"{j}.pos" for j in robot.joints]:
        raise ValueError(f"episode actions {list(names)} do not match {robot}'s joints {robot.joints}")
    frames = iter(actions)
    reached = []

    def source(obs):
        reached.append([obs[n] for n in names])
        return dict(zip(names, next(frames).tolist(), strict=True))

    with robot:
        ctx.log.info("replaying episode %d (%d frames) of %s at %d fps", spec.episode, len(actions), root, meta.fps)
        stats = control_loop(robot, source, fps=meta.fps, duration_s=None,
                             should_stop=lambda: len(reached) >= len(actions))
        time.sleep(0.2)
        final = robot.read_joints()
    # how closely the follower retraced the recording (the first frames include moving to the start pose)
    error = np.abs(np.asarray(reached) - recorded[: len(reached)])
    settle = min(len(error) - 1, meta.fps // 2)
    late = error[settle:]
    ctx.log.info("replayed: state error vs the recording, median %.2f, p95 after %d frames %.2f, max %.2f",
                 float(np.median(error)), settle, float(np.percentile(late, 95)), float(late.max()))
    return {"frames": len(actions), "loop": stats_dict(stats), "final_positions": final,
            "last_action": dict(zip(names, actions[-1].tolist(), strict=True)),
            "state_error_median": float(np.median(error)), "state_error_p95_after_start": float(np.percentile(late, 95)),
            "state_error_max_after_start": float(late.max())}


def run_policy(spec: RunPolicySpec, ctx: RunContext) -> dict:
    robot = build.robot_from(spec.robot)
    with _runner(spec.policy, robot, spec.task, ctx) as runner, robot:
        runner.prime(robot.get_observation())
        ctx.log.info("running the policy for %g s at %d fps", spec.duration_s, spec.fps)
        stats = control_loop(robot, lambda obs: runner.action(obs, period_s=1 / spec.fps), fps=spec.fps,
                             duration_s=spec.duration_s)
        inference = sorted(runner.inference_s)
    ctx.log.info("loop: %s; %d chunks, inference median %.1f ms, %d ticks held for a late chunk", stats.summary(),
                 len(inference), 1000 * inference[len(inference) // 2] if inference else float("nan"), runner.holds)
    return {"loop": stats_dict(stats), "chunks": len(inference), "holds": runner.holds}
