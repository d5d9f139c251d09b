"""Checkpoints saved by LeRobot < 0.4 (statistics inside model.safetensors, no processor files) load,
and act exactly like the same policy saved in today's layout."""

import json
import shutil

import pytest
import torch
from safetensors.torch import load_file, save_file

from lerobot_fn import policies
from lerobot_fn.process import from_flat_dict

NEEDED = {"MEAN_STD": ("mean", "std"), "MIN_MAX": ("min", "max")}


def make_legacy_copy(pretrained, dst):
    """Rewrite a LeRobot 0.6 checkpoint the way LeRobot 0.3 saved it: normalisation buffers
    `normalize_inputs.buffer_<name with _>.<stat>` (and targets / outputs for the action) in the
    weights file, no processor files."""
    dst.mkdir()
    shutil.copy(pretrained / "config.json", dst / "config.json")
    config = json.loads((pretrained / "config.json").read_text())
    stats = load_file(pretrained / "policy_preprocessor_step_3_normalizer_processor.safetensors")
    weights = load_file(pretrained / "model.safetensors")
    modes = config["normalization_mapping"]
    features = {**config["input_features"], **config["output_features"]}
    for name, feature in features.items():
        modules = ["normalize_targets", "unnormalize_outputs"] if name == "action" else ["normalize_inputs"]
        for stat in NEEDED.get(modes[feature["type"]], ()):
            for module in modules:
                weights[f"{module}.buffer_{name.replace('.', '_')}.{stat}"] = stats[f"{name}.{stat}"].clone()
    save_file(weights, dst / "model.safetensors")
    return dst


def _chunk_inputs(io):
    flat = {k.split("/", 1)[1]: v for k, v in io.items() if k.startswith("predict_chunk/observation")}
    noise = None
    if "predict_chunk/noise" in io:
        steps = sorted((k for k in io if k.startswith("predict_chunk/step_noise/")), key=lambda k: int(k.rsplit("/", 1)[1]))
        noise = {"initial": io["predict_chunk/noise"], "steps": [io[k] for k in steps]}
    batch = next(iter(flat.values())).shape[0]
    return from_flat_dict(flat, batch_size=[batch]), noise


@pytest.mark.parametrize("name", ["act_aloha_mini", "diffusion_pusht_mini"])
def test_lerobot_03_checkpoint_loads_and_predicts_like_lerobot(policy_fixtures, tmp_path, name):
    root = policy_fixtures / name
    legacy_dir = make_legacy_copy(root / "pretrained_model", tmp_path / "legacy")
    policy = policies.load(legacy_dir)
    io = load_file(root / "io.safetensors")
    obs, noise = _chunk_inputs(io)
    chunk = policies.predict_chunk(policy, obs, noise=noise)
    torch.testing.assert_close(chunk, io["predict_chunk/action"], rtol=0, atol=1e-4)

    # saving it writes today's layout, which loads the ordinary way
    saved = policies.save(policy, tmp_path / "migrated")
    assert (saved / "policy_preprocessor.json").is_file()
    again = policies.load(saved)
    torch.testing.assert_close(policies.predict_chunk(again, obs, noise=noise), chunk, rtol=0, atol=0)


def test_legacy_buffer_of_an_unknown_feature_is_named(policy_fixtures, tmp_path):
    legacy_dir = make_legacy_copy(policy_fixtures / "act_aloha_mini" / "pretrained_model", tmp_path / "legacy")
    weights = load_file(legacy_dir / "model.safetensors")
    weights["normalize_inputs.buffer_observation_images_front.mean"] = torch.zeros(3, 1, 1)
    save_file(weights, legacy_dir / "model.safetensors")
    with pytest.raises(ValueError, match="buffer_observation_images_front.*matches no feature"):
        policies.load(legacy_dir)


def test_checkpoint_without_processors_or_legacy_stats_names_the_missing_file(policy_fixtures, tmp_path):
    dst = tmp_path / "ckpt"
    shutil.copytree(policy_fixtures / "act_aloha_mini" / "pretrained_model", dst)
    (dst / "policy_preprocessor.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"policy_preprocessor\.json is missing"):
        policies.load(dst)
