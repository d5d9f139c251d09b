"""Pipelines load from and save to LeRobot's processor JSON + safetensors files, unchanged."""

import json

import pytest
import torch
from safetensors.torch import load_file
from tensordict import TensorDict

from lerobot_fn.data.pretrained import load_pipeline, save_pipeline
from lerobot_fn.process import AddBatchDim, DeviceMove, Normalize, Pipeline, RenameObservations

FIXTURES = ("act_aloha_mini", "diffusion_pusht_mini")


@pytest.mark.parametrize("name", FIXTURES)
@pytest.mark.parametrize("which", ["policy_preprocessor", "policy_postprocessor"])
def test_lerobot_processor_files_round_trip_byte_for_byte(policy_fixtures, tmp_path, name, which):
    src = policy_fixtures / name / "pretrained_model"
    pipeline = load_pipeline(src, f"{which}.json")
    assert pipeline.name == which
    save_pipeline(pipeline, tmp_path, f"{which}.json")
    assert (tmp_path / f"{which}.json").read_text() == (src / f"{which}.json").read_text()
    for entry in json.loads((src / f"{which}.json").read_text())["steps"]:
        if "state_file" in entry:
            ours, theirs = load_file(tmp_path / entry["state_file"]), load_file(src / entry["state_file"])
            assert ours.keys() == theirs.keys()
            assert all(torch.equal(ours[k], theirs[k]) for k in theirs)


def test_loaded_preprocessor_normalizes_a_raw_frame(policy_fixtures):
    src = policy_fixtures / "act_aloha_mini" / "pretrained_model"
    pre = load_pipeline(src, "policy_preprocessor.json")
    assert [type(s) for s in pre] == [RenameObservations, AddBatchDim, DeviceMove, Normalize]
    stats = load_file(src / "policy_preprocessor_step_3_normalizer_processor.safetensors")
    state = torch.linspace(-1, 1, 14)
    out = pre(TensorDict({"observation": {"state": state}}, batch_size=[]))
    expected = (state - stats["observation.state.mean"]) / (stats["observation.state.std"] + 1e-8)
    assert out["observation", "state"].shape == (1, 14)
    torch.testing.assert_close(out["observation", "state"][0], expected, rtol=0, atol=0)


def _write(tmp_path, config):
    (tmp_path / "p.json").write_text(json.dumps(config))


def test_unknown_registry_name_names_file_and_step(tmp_path):
    _write(tmp_path, {"name": "p", "steps": [{"registry_name": "to_batch_processor", "config": {}},
                                             {"registry_name": "warp_drive_processor", "config": {}}]})
    with pytest.raises(ValueError, match=r"p\.json: step 1 has unknown registry_name 'warp_drive_processor'"):
        load_pipeline(tmp_path, "p.json")


def test_missing_state_file_is_named(tmp_path):
    _write(tmp_path, {"name": "p", "steps": [{"registry_name": "normalizer_processor",
                                             "config": {"eps": 1e-8, "features": {}, "norm_map": {}},
                                             "state_file": "p_step_0_normalizer_processor.safetensors"}]})
    with pytest.raises(FileNotFoundError, match=r"step 0 \(normalizer_processor\) state file .*p_step_0"):
        load_pipeline(tmp_path, "p.json")


def test_bad_step_config_is_named(tmp_path):
    _write(tmp_path, {"name": "p", "steps": [{"registry_name": "device_processor", "config": {"float_dtype": "int3"}}]})
    with pytest.raises(ValueError, match=r"step 0 \(device_processor\): bad config"):
        load_pipeline(tmp_path, "p.json")


def test_class_only_step_is_rejected_clearly(tmp_path):
    _write(tmp_path, {"name": "p", "steps": [{"class": "my.module.Step", "config": {}}]})
    with pytest.raises(ValueError, match=r"step 0 names a Python class 'my.module.Step'"):
        load_pipeline(tmp_path, "p.json")


def test_invalid_json_is_located(tmp_path):
    (tmp_path / "p.json").write_text('{"name": "p", "steps": [}')
    with pytest.raises(ValueError, match=r"p\.json: invalid JSON at line 1"):
        load_pipeline(tmp_path, "p.json")


def test_pipeline_repr_lists_steps_and_is_composable():
    p = Pipeline((RenameObservations({"a": "b"}), AddBatchDim()), "policy_preprocessor")
    text = repr(p)
    assert "policy_preprocessor" in text and "0: RenameObservations" in text and "1: AddBatchDim()" in text
    q = p.then(DeviceMove("cpu"))
    assert len(q) == 3 and len(p) == 2
