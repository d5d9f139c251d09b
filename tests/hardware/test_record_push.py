"""`record` with `push_to_hub`: the recorded dataset reaches the Hub (stood in for at its network boundary,
tests/hub_standin.py; the job calls the real huggingface_hub) file for file, with its card and version tag;
a failed upload keeps every recorded episode and says how to push later."""

from __future__ import annotations

import logging

import pytest
from hw_helpers import write_calibration

from hardware import jobs
from hardware.cameras import CameraConfig
from hardware.specs import DatasetOptions, RecordSpec, RobotConfig, TeleopConfig
from lerobot_fn import data
from lerobot_fn.specs import RunContext


def record_spec(sim_port, tmp_path, *, cameras: bool, **dataset) -> RecordSpec:
    home = tmp_path / "home"
    write_calibration(home, "robots", "so_follower", "f")
    write_calibration(home, "teleoperators", "so_leader", "l")
    cams = {n: CameraConfig(type="synthetic", width=64, height=48) for n in ("front", "wrist")} if cameras else {}
    return RecordSpec(
        robot=RobotConfig(type="so101_follower", port=sim_port("so101_follower"), id="f", cameras=cams),
        teleop=TeleopConfig(type="so101_leader", port=sim_port("so101_leader"), id="l"),
        dataset=DatasetOptions(repo_id="me/so101_pushed", single_task="wave", num_episodes=1, episode_time_s=0.3,
                               reset_time_s=0.0, video=cameras, push_to_hub=True, **dataset),
        keyboard_controls=False)


@pytest.fixture
def ctx(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_LEROBOT_HOME", str(tmp_path / "home"))
    return RunContext(out_dir=tmp_path / "run", seed=0, log=logging.getLogger("record"))


def test_record_pushes_the_dataset_it_recorded(sim_port, tmp_path, ctx, fake_hub):
    spec = record_spec(sim_port, tmp_path, cameras=True, private=True, tags=["so101", "sim"])
    result = jobs.record(spec, ctx)
    root = tmp_path / "home" / "me" / "so101_pushed"
    assert result["dataset"] == str(root) and result["total_episodes"] == 1
    assert "me/so101_pushed" in result["pushed"]
    repo = fake_hub.repos["me/so101_pushed"]
    assert repo["type"] == "dataset" and repo["private"] is True
    local = {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert any(k.startswith("videos/observation.images.wrist/") for k in local)
    assert {k: v for k, v in repo["files"].items() if k != "README.md"} == local  # byte for byte, nothing else
    card = repo["files"]["README.md"].decode()
    assert "- LeRobot\n- so101\n- sim\n" in card and '"robot_type": "so_follower"' in card
    assert fake_hub.tags["me/so101_pushed"] == ["v3.0"]


def test_a_failed_push_keeps_the_recording_and_says_how_to_push_it(sim_port, tmp_path, ctx, fake_hub):
    fake_hub.fail_with = 503
    with pytest.raises(RuntimeError) as failure:
        jobs.record(record_spec(sim_port, tmp_path, cameras=False), ctx)
    root = tmp_path / "home" / "me" / "so101_pushed"
    message = str(failure.value)
    assert f"saved in {root} (1 episodes)" in message and "as me/so101_pushed failed" in message
    assert f"specs/dataset_push.toml --set dataset={root} --set repo_id=me/so101_pushed" in message
    assert data.verify(root) == [] and data.DatasetMeta.load(root).total_episodes == 1
    assert fake_hub.requests  # it did try


def test_nothing_recorded_nothing_pushed(sim_port, tmp_path, ctx, fake_hub, caplog, monkeypatch):
    from hardware.teleoperators import keys

    class EscAtOnce(keys.RecordControls):  # the user stops before the first episode
        def __init__(self):
            super().__init__()
            self.stop_recording = True

    monkeypatch.setattr(keys, "RecordControls", EscAtOnce)
    with caplog.at_level(logging.WARNING):
        result = jobs.record(record_spec(sim_port, tmp_path, cameras=False, root=str(tmp_path / "ds")), ctx)
    assert result["total_episodes"] == 0 and result["pushed"] is None
    assert "no episode saved" in caplog.text and fake_hub.requests == []
    assert not (tmp_path / "ds").exists()  # the empty dataset is gone: a rerun needs no resume = true
