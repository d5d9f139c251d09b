"""The hardware jobs on simulated arms: setup_motors, calibrate, teleoperate, record
resume / refusals, with the errors a user gets for a wrong setup."""

from __future__ import annotations

import logging

import attrs
import pytest
from hw_helpers import JOINTS, chain_of, write_calibration

from hardware import jobs, sim
from hardware.specs import (
    ArmTarget,
    CalibrateSpec,
    DatasetOptions,
    RecordSpec,
    RobotConfig,
    SetupMotorsSpec,
    TeleopConfig,
    TeleoperateSpec,
)
from lerobot_fn import data
from lerobot_fn.specs import RunContext


@pytest.fixture
def ctx(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_LEROBOT_HOME", str(tmp_path / "home"))
    return RunContext(out_dir=tmp_path / "run", seed=0, log=logging.getLogger("job"))


def test_setup_motors_gives_every_factory_motor_its_id(sim_port, ctx):
    port = sim_port("so101_follower", factory=1)
    result = jobs.setup_motors(SetupMotorsSpec(arm=ArmTarget(type="so101_follower", port=port)), ctx)
    assert result == {"ids": {j: i + 1 for i, j in enumerate(JOINTS)}, "baudrate": 1_000_000}
    assert sorted(s.id for s in chain_of(port).servos) == [1, 2, 3, 4, 5, 6]
    assert all(s.baud_index == 0 for s in chain_of(port).servos)
    for servo in chain_of(port).servos:  # written with Lock = 0: kept across a power cycle
        servo.power_cycle()
    assert sorted(s.id for s in chain_of(port).servos) == [1, 2, 3, 4, 5, 6]


def test_calibrate_job_saves_lerobot_file_and_ends_with_torque_off(sim_port, ctx, tmp_path):
    port = sim_port("koch_follower")
    result = jobs.calibrate(CalibrateSpec(arm=ArmTarget(type="koch_follower", port=port, id="k")), ctx)
    path = tmp_path / "home" / "calibration" / "robots" / "koch_follower" / "k.json"
    assert result["calibration_file"] == str(path) and path.is_file()
    assert result["ranges"]["shoulder_pan"] == [0, 4095]  # full-turn joints on Koch: pan and wrist roll
    assert not any(s.torque for s in chain_of(port).servos)


def test_teleoperate_job_reports_its_loop(sim_port, ctx, tmp_path):
    write_calibration(tmp_path / "home", "robots", "so_follower", "f")
    write_calibration(tmp_path / "home", "teleoperators", "so_leader", "l")
    follower = sim_port("so101_follower")
    spec = TeleoperateSpec(robot=RobotConfig(type="so101_follower", port=follower, id="f"),
                           teleop=TeleopConfig(type="so101_leader", port=sim_port("so101_leader"), id="l"),
                           fps=30, duration_s=0.4, display_every_s=0.0)
    result = jobs.teleoperate(spec, ctx)
    assert result["loop"]["ticks"] == 11  # 12 ticks, 11 periods
    assert not any(s.torque for s in chain_of(follower).servos)


def test_record_resumes_and_refuses_what_it_cannot_do(sim_port, ctx, tmp_path):
    write_calibration(tmp_path / "home", "robots", "so_follower", "r")
    write_calibration(tmp_path / "home", "teleoperators", "so_leader", "r")
    robot = RobotConfig(type="so101_follower", port=sim_port("so101_follower"), id="r")
    teleop = TeleopConfig(type="so101_leader", port=sim_port("so101_leader"), id="r")
    options = DatasetOptions(repo_id="local/resume", root=str(tmp_path / "ds"), single_task="t", num_episodes=1,
                             episode_time_s=0.3, reset_time_s=0.0, video=False)
    with pytest.raises(ValueError, match=r"needs a \[teleop\] table"):
        jobs.record(RecordSpec(robot=robot, dataset=options), ctx)
    jobs.record(RecordSpec(robot=robot, teleop=teleop, dataset=options, keyboard_controls=False), ctx)
    with pytest.raises(FileExistsError, match="set resume = true"):
        jobs.record(RecordSpec(robot=robot, teleop=teleop, dataset=options, keyboard_controls=False), ctx)
    more = attrs.evolve(options, num_episodes=2)
    result = jobs.record(RecordSpec(robot=robot, teleop=teleop, dataset=more, resume=True, keyboard_controls=False), ctx)
    assert result["total_episodes"] == 2 and result["episodes_recorded"] == 1
    assert data.DatasetMeta.load(tmp_path / "ds").total_frames == 18
    assert data.verify(tmp_path / "ds") == []


def test_a_wrong_port_names_it_and_what_to_do(ctx, tmp_path):
    spec = CalibrateSpec(arm=ArmTarget(type="so101_follower", port=str(tmp_path / "ttyNONE")))
    with pytest.raises(ConnectionError, match=r"could not open port .*ttyNONE.*so101_find_port.toml"):
        jobs.calibrate(spec, ctx)


def test_unknown_simulated_robot_is_a_clear_error():
    with pytest.raises(ValueError, match="no simulated robot 'so102_follower'"):
        sim.open_sim("sim://so102_follower")


def test_rerecord_and_stop_controls_during_a_session(sim_port, tmp_path, monkeypatch):
    from hardware.loops import dataset_features, record_session
    from hardware.robots import SOFollower
    from hardware.teleoperators.keys import RecordControls

    monkeypatch.setenv("HF_LEROBOT_HOME", str(tmp_path / "home"))
    write_calibration(tmp_path / "home", "robots", "so_follower", "c")
    robot = SOFollower(sim_port("so101_follower"), id="c")
    controls = RecordControls()
    starts, ticks = [], []

    def on_start():
        starts.append(True)
        ticks.clear()

    def hold_still(obs):  # the user re-records episode 1 a moment in; keeps the retake; presses Esc in episode 2
        ticks.append(1)
        key = {1: "left", 3: "esc"}.get(len(starts))
        if key and len(ticks) == 5:  # 5 ticks into the episode, however slowly a loaded machine plays them
            controls.press(key)
        return {k: v for k, v in obs.items() if k.endswith(".pos")}

    with robot, data.create(tmp_path / "ds", fps=30, features=dataset_features(robot), use_videos=False) as writer:
        summary = record_session(robot, writer, hold_still, fps=30, num_episodes=5, episode_time_s=0.4,
                                 reset_time_s=0.05, task="t", controls=controls, on_episode_start=on_start)
    assert len(starts) == 3 and summary["episodes_recorded"] == 2
    meta = data.DatasetMeta.load(tmp_path / "ds")
    assert meta.total_episodes == 2
    first, second = (meta.episode_range(e) for e in (0, 1))
    assert first[1] - first[0] == 12  # the full retake of episode 1 (0.4 s at 30 fps)
    assert 0 < second[1] - second[0] < 12  # episode 2 ended by Esc, its frames kept


def test_a_record_that_fails_before_any_episode_leaves_no_dataset(ctx, tmp_path):
    spec = RecordSpec(robot=RobotConfig(type="so101_follower", port=str(tmp_path / "ttyNONE"), id="x"),
                      teleop=TeleopConfig(type="so101_leader", port=str(tmp_path / "ttyNONE2")),
                      dataset=DatasetOptions(repo_id="local/x", root=str(tmp_path / "ds"), single_task="t", video=False),
                      keyboard_controls=False)
    with pytest.raises(ConnectionError, match="ttyNONE"):
        jobs.record(spec, ctx)
    assert not (tmp_path / "ds").exists()  # so a second try needs no resume = true
