"""pi0 and pi05 against LeRobot 0.6.1's own outputs on tiny checkpoints it wrote (tests/policies/data/pi0,
pi05, made by pi_generate.py): predict_chunk, 10 select_action steps, the loss and its gradients, the
tokenised prompts, the trainable parameters, and checkpoints that save back in LeRobot's form."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from tensordict import TensorDictBase

from lerobot_fn import policies
from lerobot_fn.policies import pi0, pi05
from lerobot_fn.process.keys import to_flat_dict

DATA = Path(__file__).resolve().parent / "data"
VARIANTS = ("pi0", "pi05")
TASKS = ["pick up the red cube", "push_the green block\n"]
FAMILIES = {"pi0": pi0, "pi05": pi05}


@pytest.fixture(autouse=True)
def _in_data_dir(monkeypatch):
    """The checkpoints name their backbone directories relative to the data directory."""
    monkeypatch.chdir(DATA)


@pytest.fixture(scope="module", params=VARIANTS)
def reference(request):
    root = DATA / request.param
    inputs = load_file(root / "inputs.safetensors")
    outputs = load_file(root / "outputs.safetensors")
    meta = json.loads((root / "outputs.json").read_text())
    return root, inputs, outputs, meta


def observation(inputs, step):
    prefix = f"step{step}."
    obs = {k[len(prefix):]: v for k, v in inputs.items() if k.startswith(prefix) and not k.endswith("noise")}
    obs["task"] = list(TASKS)
    return obs


def training_batch(inputs):
    train = observation(inputs, 0)
    train["action"] = inputs["train.action"]
    train["action_is_pad"] = inputs["train.action_is_pad"]
    return train


def load(root: Path) -> policies.Policy:
    return policies.load(root / "pretrained_model")


def run_all(policy, inputs):
    """Our outputs for the reference inputs, in the reference's names."""
    out = {"chunk": policies.predict_chunk(policy, observation(inputs, 0), noise=inputs["chunk_noise"])}
    state = policies.initial_state(policy)
    actions = []
    for step in range(10):
        action, state = policies.select_action(policy, observation(inputs, step), state,
                                               noise=inputs[f"step{step}.noise"])
        actions.append(action)
    out["select_actions"] = torch.stack(actions)
    policy.model.train()
    policy.model.zero_grad()
    batch = policies.preprocess(policy, training_batch(inputs))
    loss, _ = policy.family.loss(policy.model, policy.config, batch, noise=inputs["train.noise"],
                                 time=inputs["train.time"])
    loss.backward()
    out["loss"] = loss.detach().reshape(1)
    out["batch"] = batch
    return out


@pytest.fixture(scope="module")
def ours(reference):
    root, inputs, _, _ = reference
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(DATA)
        policy = load(root)
        return policy, run_all(policy, inputs)


def test_predict_chunk_matches_lerobot(reference, ours):
    _, _, ref, _ = reference
    _, out = ours
    assert out["chunk"].shape == ref["chunk"].shape
    torch.testing.assert_close(out["chunk"], ref["chunk"], atol=1e-4, rtol=0)


def test_ten_select_action_steps_match_lerobot(reference, ours):
    _, _, ref, _ = reference
    _, out = ours
    torch.testing.assert_close(out["select_actions"], ref["select_actions"], atol=1e-4, rtol=0)


def test_loss_and_gradients_match_lerobot(reference, ours):
    _, _, ref, meta = reference
    policy, out = ours
    assert abs(out["loss"].item() - ref["loss"].item()) < 1e-5
    assert abs(out["loss"].item() - meta["loss_dict"]["loss"]) < 1e-5
    params = dict(policy.model.named_parameters())
    grads = {k[len("grad."):]: v for k, v in ref.items() if k.startswith("grad.")}
    assert len(grads) >= 4
    for key, grad in grads.items():
        torch.testing.assert_close(params[key].grad, grad, atol=1e-6, rtol=1e-4, msg=key)


def test_tokenised_prompt_matches_lerobot(reference, ours):
    _, _, ref, _ = reference
    _, out = ours
    assert torch.equal(out["batch"]["observation", "language", "tokens"], ref["language_tokens"])
    assert torch.equal(out["batch"]["observation", "language", "attention_mask"], ref["language_mask"])


def test_batch_is_one_nested_tensordict_read_by_in_keys(reference, ours):
    """The preprocessed batch stays a nested TensorDict holding every key the model declares (pi05:
    no state, it is in the prompt); the loss is the same for it and for its flat dotted-name form."""
    _, inputs, _, _ = reference
    policy, out = ours
    batch = out["batch"]
    assert isinstance(batch, TensorDictBase)
    assert policy.model.out_keys == ("action",)
    assert all(key in batch.keys(include_nested=True) for key in policy.model.in_keys)
    assert (("observation", "state") in policy.model.in_keys) == (not policy.config.state_in_prompt)
    kwargs = {"noise": inputs["train.noise"], "time": inputs["train.time"]}
    with torch.no_grad():
        assert policy.family.loss(policy.model, policy.config, to_flat_dict(batch), **kwargs)[0].item() == \
            policy.family.loss(policy.model, policy.config, batch, **kwargs)[0].item()
    if not policy.config.state_in_prompt:
        with pytest.raises(KeyError, match="missing 'observation.state'.*observation.language.tokens"):
            policy.family.predict_chunk(policy.model, policy.config, batch.exclude(("observation", "state")))


def test_trainable_parameters_match_lerobot(reference, ours):
    _, _, _, meta = reference
    policy, _ = ours
    trainable = sorted(k for k, p in policy.model.named_parameters() if p.requires_grad)
    assert trainable == meta["trainable"]
    groups = policy.family.param_groups(policy.model, policy.config)
    assert sum(p.numel() for g in groups for p in g["params"]) == meta["n_trainable"]


def test_frozen_parts_stay_in_eval_mode(ours):
    policy, _ = ours
    policy.model.train()
    backbone = policy.model.model.paligemma_with_expert
    assert not backbone.paligemma.model.vision_tower.training  # frozen in both (pi05: the whole VLM)
    assert backbone.paligemma.training is (not policy.config.train_expert_only)
    assert backbone.gemma_expert.training


def test_bf16_policy_keeps_lerobots_float32_parts(reference):
    root, _, _, meta = reference
    raw = json.loads((root / "pretrained_model" / "config.json").read_text())
    family = FAMILIES[raw["type"]]
    model = family.build_model(family.Config.from_dict({**raw, "dtype": "bfloat16"}))
    dtypes = {k: v.dtype for k, v in model.state_dict().items()}
    assert sorted(k for k, d in dtypes.items() if d == torch.float32) == meta["bf16_layout"]["float32"]
    assert {d for d in dtypes.values()} == {torch.float32, torch.bfloat16}


def test_saved_checkpoint_is_lerobots(reference, ours, tmp_path):
    root, inputs, _, _ = reference
    policy, out = ours
    saved = policies.save(policy, tmp_path / "pretrained_model")
    theirs = root / "pretrained_model"
    assert json.loads((saved / "config.json").read_text()) == json.loads((theirs / "config.json").read_text())
    for name in ("policy_preprocessor.json", "policy_postprocessor.json"):
        assert json.loads((saved / name).read_text()) == json.loads((theirs / name).read_text()), name
    ours_state, their_state = load_file(saved / "model.safetensors"), load_file(theirs / "model.safetensors")
    assert {k: v.shape for k, v in ours_state.items()} == {k: v.shape for k, v in their_state.items()}
    again = policies.load(saved)
    torch.testing.assert_close(policies.predict_chunk(again, observation(inputs, 0), noise=inputs["chunk_noise"]),
                               out["chunk"], atol=1e-6, rtol=0)


def test_generator_noise_and_time_are_reproducible(reference, ours):
    _, inputs, _, _ = reference
    policy, _ = ours
    fam, config = policy.family, policy.config
    batch = policies.preprocess(policy, observation(inputs, 0))
    with torch.no_grad():
        first = fam.predict_chunk(policy.model, config, batch, generator=torch.Generator().manual_seed(3))
        second = fam.predict_chunk(policy.model, config, batch, generator=torch.Generator().manual_seed(3))
        other = fam.predict_chunk(policy.model, config, batch, generator=torch.Generator().manual_seed(4))
        torch.manual_seed(5)
        default = fam.predict_chunk(policy.model, config, batch)
        torch.manual_seed(5)
        explicit = fam.predict_chunk(policy.model, config, batch,
                                     noise=torch.randn(*first.shape[:2], config.max_action_dim))
    assert torch.equal(first, second) and not torch.allclose(first, other)
    torch.testing.assert_close(default, explicit)  # default RNG: LeRobot's standard-normal draw
    train = training_batch(inputs)
    a, _ = policies.loss(policy, train, generator=torch.Generator().manual_seed(0))
    b, metrics = policies.loss(policy, train, generator=torch.Generator().manual_seed(0))
    c, _ = policies.loss(policy, train, generator=torch.Generator().manual_seed(1))
    assert policy.model.training and a.item() == b.item() != c.item()
    assert set(metrics) == {"loss"} and metrics["loss"].ndim == 0


def test_bad_inputs_name_what_is_wrong(reference, ours):
    _, inputs, _, _ = reference
    policy, _ = ours
    obs = observation(inputs, 0)
    with pytest.raises(ValueError, match="no 'task' entry"):
        policies.predict_chunk(policy, {k: v for k, v in obs.items() if k != "task"})
    with pytest.raises(ValueError, match=rf"{policy.type} noise: shape \(2, 3, 8\)"):
        policies.predict_chunk(policy, obs, noise=torch.zeros(2, 3, 8))
    cameras = {k: v for k, v in obs.items() if not k.startswith("observation.images")}
    with pytest.raises(ValueError, match="no camera"):
        policies.predict_chunk(policy, cameras)
    batch = policies.preprocess(policy, obs)
    with pytest.raises(KeyError, match="has no 'action'"):
        policy.family.loss(policy.model, policy.config, batch)
