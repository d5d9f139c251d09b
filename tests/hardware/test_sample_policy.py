"""`specs/sim_run_policy.toml` runs on a user's clone: its policy is `sample:act_so101`, a small ACT the
project generates on first use (no ../shared, no download), in LeRobot's checkpoint layout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hw_helpers import policy_workers, write_calibration

from hardware import sim
from hardware.sample_policy import resolve_policy_path, sample_policy_root
from lerobot_fn.cli import main

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "specs" / "sim_run_policy.toml"


def test_sim_run_policy_spec_runs_as_shipped_on_the_sample_policy(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_LEROBOT_HOME", str(tmp_path / "home"))
    write_calibration(tmp_path / "home", "robots", "so_follower", "sim_follower")  # no calibration sweep first
    monkeypatch.chdir(tmp_path)
    assert 'path = "sample:act_so101"' in SPEC.read_text()
    try:
        # 2 s: the chunk asked for ahead (about 7 ticks in) has over a second to come on a loaded machine
        code = main([str(SPEC), "--set", "duration_s=2.0", "--set", "run.output_dir='run'"])
        chain = sim.running("sim://so101_follower").chain
        assert not any(s.torque for s in chain.servos)  # torque off at the end
    finally:
        sim.release("sim://so101_follower")
    assert code == 0
    assert policy_workers() == []  # the inference process ended with the job
    result = json.loads((tmp_path / "run" / "result.json").read_text())
    assert result["loop"]["ticks"] == 59 and result["chunks"] >= 2  # 60 ticks, a chunk of 10 every 10 ticks
    checkpoint = tmp_path / "home" / "lerobot_fn_samples" / "act_so101_v1"
    assert sample_policy_root() == checkpoint
    config = json.loads((checkpoint / "config.json").read_text())  # LeRobot's pretrained_model layout
    assert config["type"] == "act" and set(config["input_features"]) == {
        "observation.state", "observation.images.front", "observation.images.wrist"}
    assert (checkpoint / "model.safetensors").is_file() and (checkpoint / "policy_preprocessor.json").is_file()
    assert resolve_policy_path("sample:act_so101") == str(checkpoint)  # built once, then reused
    assert not list(checkpoint.parent.glob(".*building*"))  # no half-built copy left beside it


def test_an_unknown_sample_policy_names_the_ones_there_are(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_LEROBOT_HOME", str(tmp_path / "home"))
    with pytest.raises(ValueError, match=r"no sample policy 'act_so100'; available: act_so101"):
        resolve_policy_path("sample:act_so100")
    assert resolve_policy_path("outputs/train/x/pretrained_model") == "outputs/train/x/pretrained_model"
