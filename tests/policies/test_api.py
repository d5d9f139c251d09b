"""The functional policy API: load (path, training dir, Hub id), save -> load, state as a value, loss."""

import json
import shutil

import pytest
import torch
from huggingface_hub import constants as hf_constants
from safetensors.torch import load_file
from tensordict import TensorDict

from lerobot_fn import policies
from lerobot_fn.data.pretrained import CONFIG_NAME
from lerobot_fn.process import DeviceMove, from_flat_dict


@pytest.fixture(scope="module")
def act_root(policy_fixtures):
    return policy_fixtures / "act_aloha_mini"


@pytest.fixture(scope="module")
def act(act_root):
    return policies.load(act_root / "pretrained_model")


@pytest.fixture(scope="module")
def act_io(act_root):
    return load_file(act_root / "io.safetensors")


def _frame(io, t, batch=True):
    flat = {k.split("/", 2)[2]: v for k, v in io.items() if k.startswith(f"select_action/{t}/observation")}
    td = from_flat_dict(flat, batch_size=[1])
    return td if batch else td[0]


def _chunk_obs(io):
    flat = {k.split("/", 1)[1]: v for k, v in io.items() if k.startswith("predict_chunk/observation")}
    return from_flat_dict(flat, batch_size=[2])


def test_policy_holds_config_model_and_processors(act):
    assert act.type == "act" and act.config.chunk_size == 20
    assert not act.model.training
    assert act.preprocessor.name == "policy_preprocessor" and act.postprocessor.name == "policy_postprocessor"
    assert "Normalize" in repr(act.preprocessor)


def test_select_action_takes_an_unbatched_frame_and_never_mutates_state(act, act_io):
    s0 = policies.initial_state(act)
    a1, s1 = policies.select_action(act, _frame(act_io, 0, batch=False), s0)
    assert a1.shape == (1, 14)
    torch.testing.assert_close(a1, act_io["select_action/0/action"], rtol=0, atol=1e-4)
    # the same (state, obs) again gives the same action: nothing was cached in the policy or s0
    a1b, _ = policies.select_action(act, _frame(act_io, 0), s0)
    assert torch.equal(a1, a1b)
    # the next step comes from the action queue held in s1 (LeRobot's queue semantics)
    a2, _ = policies.select_action(act, _frame(act_io, 1), s1)
    torch.testing.assert_close(a2, act_io["select_action/1/action"], rtol=0, atol=1e-4)


def test_predict_chunk_accepts_a_flat_mapping(act, act_io):
    flat = {k.split("/", 1)[1]: v for k, v in act_io.items() if k.startswith("predict_chunk/observation")}
    out = policies.predict_chunk(act, flat)
    torch.testing.assert_close(out, act_io["predict_chunk/action"], rtol=0, atol=1e-4)


def test_save_then_load_gives_same_files_and_actions(act, act_root, act_io, tmp_path):
    out = policies.save(act, tmp_path / "pretrained_model")
    src = act_root / "pretrained_model"
    assert json.loads((out / CONFIG_NAME).read_text()) == json.loads((src / CONFIG_NAME).read_text())
    for name in ("policy_preprocessor.json", "policy_postprocessor.json"):
        assert (out / name).read_text() == (src / name).read_text()
    ours, theirs = load_file(out / "model.safetensors"), load_file(src / "model.safetensors")
    assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in theirs)
    again = policies.load(out)
    torch.testing.assert_close(
        policies.predict_chunk(again, _chunk_obs(act_io)), act_io["predict_chunk/action"], rtol=0, atol=1e-4
    )


def test_load_accepts_a_training_checkpoint_dir(act_root, tmp_path):
    shutil.copytree(act_root / "pretrained_model", tmp_path / "010000" / "pretrained_model")
    assert policies.load(tmp_path / "010000").type == "act"


def test_load_from_hub_id_through_the_hf_cache(act_root, act_io, tmp_path, monkeypatch):
    """A Hub id resolves through the real huggingface_hub.snapshot_download (offline, pre-filled cache)."""
    cache = tmp_path / "hub"
    repo = cache / "models--someone--act_aloha_mini"
    commit = "0123456789abcdef0123456789abcdef01234567"
    shutil.copytree(act_root / "pretrained_model", repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(hf_constants, "HF_HUB_OFFLINE", True)
    policy = policies.load("someone/act_aloha_mini")
    torch.testing.assert_close(
        policies.predict_chunk(policy, _chunk_obs(act_io)), act_io["predict_chunk/action"], rtol=0, atol=1e-4
    )
    with pytest.raises(FileNotFoundError, match="could not fetch policy 'someone/missing'"):
        policies.load("someone/missing")


def test_device_argument_moves_preprocessor_device_step(act_root):
    policy = policies.load(act_root / "pretrained_model", device="cpu")
    (idx,) = policy.preprocessor.find(DeviceMove)
    assert policy.preprocessor[idx].device == "cpu"
    assert policy.device.type == "cpu"


def _copy(act_root, tmp_path):
    dst = tmp_path / "ckpt"
    shutil.copytree(act_root / "pretrained_model", dst)
    return dst


def test_unknown_policy_type_is_named(act_root, tmp_path):
    dst = _copy(act_root, tmp_path)
    config = json.loads((dst / CONFIG_NAME).read_text())
    config["type"] = "tdmpc9"
    (dst / CONFIG_NAME).write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"config\.json: policy type 'tdmpc9' is not supported"):
        policies.load(dst)


def test_weights_that_do_not_fit_the_config_are_named(act_root, tmp_path):
    dst = _copy(act_root, tmp_path)
    config = json.loads((dst / CONFIG_NAME).read_text())
    config["n_decoder_layers"] = 2
    (dst / CONFIG_NAME).write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"model\.safetensors does not match .*missing keys \['model\.decoder\.layers\.1"):
        policies.load(dst)


def test_missing_processor_file_is_named(act_root, tmp_path):
    dst = _copy(act_root, tmp_path)
    (dst / "policy_postprocessor.json").unlink()
    with pytest.raises(FileNotFoundError, match=r"policy_postprocessor\.json is missing"):
        policies.load(dst)


def test_missing_checkpoint_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="has no config.json"):
        policies.load(tmp_path)
    with pytest.raises(FileNotFoundError, match="neither an existing directory nor a Hub repo id"):
        policies.load(tmp_path / "nope")


def _training_batch(io):
    obs = _chunk_obs(io)
    obs.set("action", io["predict_chunk/action"])
    pad = torch.zeros(2, 20, dtype=torch.bool)
    pad[1, 15:] = True
    obs.set("action_is_pad", pad)
    return obs


def test_loss_is_reproducible_with_a_generator_and_trains(act_root, act_io):
    policy = policies.load(act_root / "pretrained_model")
    batch = _training_batch(act_io)
    l1, m1 = policies.loss(policy, batch, generator=torch.Generator().manual_seed(0))
    l2, _ = policies.loss(policy, batch, generator=torch.Generator().manual_seed(0))
    assert policy.model.training
    assert torch.isfinite(l1) and l1.item() == l2.item()
    assert set(m1) >= {"l1_loss", "kld_loss"}
    l1.backward()
    grads = [p.grad for p in policy.model.parameters() if p.requires_grad]
    assert any(g is not None and g.abs().sum() > 0 for g in grads)
    # predict_chunk switches back to eval mode
    policies.predict_chunk(policy, _chunk_obs(act_io))
    assert not policy.model.training


def test_from_config_builds_lerobot_default_processors_and_round_trips(act, act_root, tmp_path):
    stats = {
        "observation.state": {"mean": [0.0] * 14, "std": [2.0] * 14},
        "observation.images.top": {"mean": [[[0.5]]] * 3, "std": [[[0.25]]] * 3},
        "observation.images.left_wrist": {"mean": [[[0.5]]] * 3, "std": [[[0.25]]] * 3},
        "action": {"mean": [1.0] * 14, "std": [3.0] * 14},
    }
    fresh = policies.from_config(act.config, stats=stats, device="cpu")
    assert [s.registry_name for s in fresh.preprocessor] == [
        "rename_observations_processor", "to_batch_processor", "device_processor", "normalizer_processor"]
    assert [s.registry_name for s in fresh.postprocessor] == ["unnormalizer_processor", "device_processor"]
    path = policies.save(fresh, tmp_path / "fresh")
    again = policies.load(path)
    td = TensorDict({"action": torch.zeros(1, 14)}, batch_size=[1])
    torch.testing.assert_close(again.postprocessor(td)["action"], torch.ones(1, 14))
    state = torch.full((14,), 4.0)
    out = again.preprocessor(TensorDict({"observation": {"state": state}}, batch_size=[]))
    torch.testing.assert_close(out["observation", "state"], torch.full((1, 14), 2.0))


def test_diffusion_checkpoint_saves_back_unchanged(policy_fixtures, tmp_path):
    src = policy_fixtures / "diffusion_pusht_mini" / "pretrained_model"
    policy = policies.load(src)
    out = policies.save(policy, tmp_path / "diffusion")
    assert json.loads((out / CONFIG_NAME).read_text()) == json.loads((src / CONFIG_NAME).read_text())
    for name in ("policy_preprocessor.json", "policy_postprocessor.json"):
        assert (out / name).read_text() == (src / name).read_text()
    ours, theirs = load_file(out / "model.safetensors"), load_file(src / "model.safetensors")
    assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in theirs)
    assert policies.load(out).type == "diffusion"


def test_bad_observations_are_named(act, act_io):
    obs = _frame(act_io, 0)
    del obs["observation", "images", "left_wrist"]
    with pytest.raises(KeyError, match="observation.images.left_wrist"):
        policies.select_action(act, obs, policies.initial_state(act))
    wrong = _frame(act_io, 0)
    wrong.set(("observation", "state"), torch.zeros(1, 13))
    with pytest.raises(ValueError, match=r"'observation.state' has shape \(1, 13\)"):
        policies.predict_chunk(act, wrong)
    with pytest.raises(TypeError, match="observations must be a TensorDict"):
        policies.predict_chunk(act, "observation")


def test_diffusion_loss_through_the_api(policy_fixtures):
    policy = policies.load(policy_fixtures / "diffusion_pusht_mini" / "pretrained_model")
    io = load_file(policy_fixtures / "diffusion_pusht_mini" / "io.safetensors")
    flat = {k.split("/", 1)[1]: v for k, v in io.items() if k.startswith("predict_chunk/observation")}
    batch = from_flat_dict(flat, batch_size=[2])
    batch.set("action", torch.rand(2, policy.config.horizon, 2, generator=torch.Generator().manual_seed(0)) * 500)
    batch.set("action_is_pad", torch.zeros(2, policy.config.horizon, dtype=torch.bool))
    l1, _ = policies.loss(policy, batch, generator=torch.Generator().manual_seed(3))
    l2, _ = policies.loss(policy, batch, generator=torch.Generator().manual_seed(3))
    l3, _ = policies.loss(policy, batch, generator=torch.Generator().manual_seed(4))
    assert torch.isfinite(l1) and l1.item() == l2.item() and l1.item() != l3.item()


def test_optimize_autocast_and_channels_last_keep_actions_close(act_root, act_io):
    policy = policies.optimize(policies.load(act_root / "pretrained_model"), autocast="bfloat16", channels_last=True)
    assert policy.autocast is torch.bfloat16
    out = policies.predict_chunk(policy, _chunk_obs(act_io))
    assert out.dtype == torch.float32
    expected = act_io["predict_chunk/action"]
    assert (out - expected).abs().max().item() <= 0.05 * expected.abs().max().item()


@pytest.mark.slow
def test_optimize_compile_matches_eager(act_root, act_io):
    policy = policies.optimize(policies.load(act_root / "pretrained_model"), compile=True)
    torch.testing.assert_close(
        policies.predict_chunk(policy, _chunk_obs(act_io)), act_io["predict_chunk/action"], rtol=0, atol=1e-4
    )
    state = policies.initial_state(policy)
    for t in range(3):
        action, state = policies.select_action(policy, _frame(act_io, t), state)
        torch.testing.assert_close(action, act_io[f"select_action/{t}/action"], rtol=0, atol=1e-4)
