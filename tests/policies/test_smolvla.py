"""SmolVLA against LeRobot 0.6.1's own outputs on tiny checkpoints it wrote (tests/policies/data/smolvla_*,
made by smolvla_generate.py): predict_chunk, 10 select_action steps, the loss and its gradients,
the trainable parameters, and checkpoints that save back in LeRobot's form."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from tensordict import TensorDictBase

from lerobot_fn import policies
from lerobot_fn.policies import smolvla
from lerobot_fn.process.keys import to_flat_dict

DATA = Path(__file__).resolve().parent / "data"
VARIANTS = ("a", "b")
TASKS = ["pick up the red cube", "push the green block to the left side"]


@pytest.fixture(autouse=True)
def _in_data_dir(monkeypatch):
    """The checkpoints name their VLM "smolvla_tiny_vlm", relative to the data directory."""
    monkeypatch.chdir(DATA)


@pytest.fixture(scope="module", params=VARIANTS)
def reference(request):
    root = DATA / f"smolvla_{request.param}"
    inputs = load_file(root / "inputs.safetensors")
    outputs = load_file(root / "outputs.safetensors")
    meta = json.loads((root / "outputs.json").read_text())
    return root, inputs, outputs, meta


def observation(inputs, step):
    prefix = f"step{step}."
    obs = {k[len(prefix):]: v for k, v in inputs.items() if k.startswith(prefix) and not k.endswith("noise")}
    obs["task"] = list(TASKS)
    return obs


def load(root: Path) -> policies.Policy:
    with contextlib.chdir(DATA):
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
    train = observation(inputs, 0)
    train["action"] = inputs["train.action"]
    train["action_is_pad"] = inputs["train.action_is_pad"]
    policy.model.train()
    policy.model.zero_grad()
    batch = policies.preprocess(policy, train)
    loss, metrics = smolvla.loss(policy.model, policy.config, batch, noise=inputs["train.noise"],
                                 time=inputs["train.time"])
    loss.backward()
    out["loss"] = loss.detach().reshape(1)
    out["metrics"] = metrics
    out["batch"] = batch
    return out


@pytest.fixture(scope="module")
def ours(reference):
    root, inputs, _, _ = reference
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
    for key in ("losses_after_forward", "losses_after_in_ep_bound"):
        assert abs(out["metrics"][key].item() - meta["loss_dict"][key]) < 1e-5, key
    params = dict(policy.model.named_parameters())
    grads = {k[len("grad."):]: v for k, v in ref.items() if k.startswith("grad.")}
    assert grads
    for key, grad in grads.items():
        torch.testing.assert_close(params[key].grad, grad, atol=1e-6, rtol=1e-4, msg=key)


def test_tokenised_task_matches_lerobot(reference, ours):
    _, _, ref, _ = reference
    _, out = ours
    assert torch.equal(out["batch"]["observation", "language", "tokens"], ref["language_tokens"])
    assert torch.equal(out["batch"]["observation", "language", "attention_mask"], ref["language_mask"])


def test_batch_is_one_nested_tensordict_read_by_in_keys(reference, ours):
    """The preprocessed batch stays a nested TensorDict holding every key the model declares; the
    family functions give the same results for it and for its flat dotted-name form."""
    _, inputs, _, _ = reference
    policy, out = ours
    batch = out["batch"]
    assert isinstance(batch, TensorDictBase)
    assert policy.model.out_keys == ("action",)
    assert all(key in batch.keys(include_nested=True) for key in policy.model.in_keys)
    assert ("observation", "language", "tokens") in policy.model.in_keys
    flat = to_flat_dict(batch)
    kwargs = {"noise": inputs["train.noise"], "time": inputs["train.time"]}
    with torch.no_grad():
        assert smolvla.loss(policy.model, policy.config, flat, **kwargs)[0].item() == \
            smolvla.loss(policy.model, policy.config, batch, **kwargs)[0].item()
    state_missing = batch.exclude(("observation", "state"))
    with pytest.raises(KeyError, match="missing 'observation.state'.*observation.language.tokens"):
        smolvla.predict_chunk(policy.model, policy.config, state_missing)


def test_trainable_parameters_match_lerobot(reference, ours):
    _, _, _, meta = reference
    policy, _ = ours
    trainable = sorted(k for k, p in policy.model.named_parameters() if p.requires_grad)
    assert trainable == meta["trainable"]
    groups = smolvla.param_groups(policy.model, policy.config)
    assert sum(p.numel() for g in groups for p in g["params"]) == meta["n_trainable"]


def test_frozen_parts_stay_in_eval_mode(reference, ours):
    policy, _ = ours
    policy.model.train()
    vlm = policy.model.model.vlm_with_expert.vlm
    assert not vlm.model.vision_model.training  # freeze_vision_encoder=True in both variants
    assert vlm.training is (not policy.config.train_expert_only)
    assert policy.model.model.vlm_with_expert.lm_expert.training


def test_saved_checkpoint_is_lerobots(reference, ours, tmp_path):
    root, inputs, _, _ = reference
    policy, out = ours
    saved = policies.save(policy, tmp_path / "pretrained_model")
    theirs = root / "pretrained_model"
    assert json.loads((saved / "config.json").read_text()) == json.loads((theirs / "config.json").read_text())
    for name in ("policy_preprocessor.json", "policy_postprocessor.json"):
        assert json.loads((saved / name).read_text()) == json.loads((theirs / name).read_text()), name
    ours_state, their_state = load_file(saved / "model.safetensors"), load_file(theirs / "model.safetensors")
    assert set(ours_state) == set(their_state)
    again = policies.load(saved)
    torch.testing.assert_close(policies.predict_chunk(again, observation(inputs, 0), noise=inputs["chunk_noise"]),
                               out["chunk"], atol=1e-6, rtol=0)


def test_generator_noise_is_reproducible(reference, ours):
    _, inputs, _, _ = reference
    policy, _ = ours
    obs = observation(inputs, 0)
    batch = policies.preprocess(policy, obs)
    with torch.no_grad():
        first = smolvla.predict_chunk(policy.model, policy.config, batch, generator=torch.Generator().manual_seed(3))
        second = smolvla.predict_chunk(policy.model, policy.config, batch, generator=torch.Generator().manual_seed(3))
        other = smolvla.predict_chunk(policy.model, policy.config, batch, generator=torch.Generator().manual_seed(4))
        torch.manual_seed(5)
        default = smolvla.predict_chunk(policy.model, policy.config, batch)
        torch.manual_seed(5)
        explicit = smolvla.predict_chunk(policy.model, policy.config, batch,
                                         noise=torch.randn(*first.shape[:2], policy.config.max_action_dim))
    assert torch.equal(first, second)
    assert not torch.allclose(first, other)
    torch.testing.assert_close(default, explicit)  # default RNG: LeRobot's standard-normal draw


def test_loss_with_generator_is_reproducible_and_in_train_mode(reference, ours):
    _, inputs, _, _ = reference
    policy, _ = ours
    train = observation(inputs, 0)
    train["action"] = inputs["train.action"]
    train["action_is_pad"] = inputs["train.action_is_pad"]
    a, _ = policies.loss(policy, train, generator=torch.Generator().manual_seed(0))
    b, metrics = policies.loss(policy, train, generator=torch.Generator().manual_seed(0))
    c, _ = policies.loss(policy, train, generator=torch.Generator().manual_seed(1))
    assert policy.model.training
    assert a.item() == b.item() != c.item()
    assert set(metrics) == {"losses_after_forward", "losses_after_in_ep_bound", "loss"}


def test_time_sampler_draws_lerobots_beta_stream():
    torch.manual_seed(11)
    theirs = torch.distributions.Beta(torch.tensor(1.5), torch.tensor(1.0)).sample((64,)) * 0.999 + 0.001
    torch.manual_seed(11)
    ours = smolvla.sample_time(64, torch.device("cpu"))
    torch.testing.assert_close(ours, theirs)
    assert ours.min() >= 0.001 and ours.max() <= 1.0


def test_bad_inputs_name_what_is_wrong(reference, ours):
    _, inputs, _, _ = reference
    policy, _ = ours
    obs = observation(inputs, 0)
    with pytest.raises(ValueError, match="no 'task' entry"):
        policies.predict_chunk(policy, {k: v for k, v in obs.items() if k != "task"})
    with pytest.raises(ValueError, match=r"smolvla noise: shape \(2, 3, 8\)"):
        policies.predict_chunk(policy, obs, noise=torch.zeros(2, 3, 8))
    cameras = {k: v for k, v in obs.items() if not k.startswith("observation.images")}
    with pytest.raises(ValueError, match="no camera"):
        policies.predict_chunk(policy, cameras)
    batch = policies.preprocess(policy, obs)
    with pytest.raises(KeyError, match="has no 'action'"):
        smolvla.loss(policy.model, policy.config, batch)


def test_missing_vlm_directory_is_a_clear_error(tmp_path):
    raw = json.loads((DATA / "smolvla_a" / "pretrained_model" / "config.json").read_text())
    config = smolvla.Config.from_dict({**raw, "vlm_model_name": str(tmp_path / "no_such_vlm")})
    with pytest.raises(FileNotFoundError, match="no_such_vlm.*vlm_model_name"):
        smolvla.build_model(config)


@pytest.mark.gpu
def test_cuda_graphs_sample_the_eager_chunks(reference):
    """Compiled with CUDA graphs, two chunks in a row equal eager sampling: the prefix cache survives
    the velocity graphs' replays (`vla.compile.compile_flow` copies it out of the prefill graph)."""
    assert torch.cuda.is_available(), "this test needs a CUDA GPU (run it with -m gpu on a GPU machine)"
    root, inputs, _, _ = reference
    with contextlib.chdir(DATA):
        policy = policies.load(root / "pretrained_model", device="cuda")
    noises = [inputs["chunk_noise"], inputs["step1.noise"]]
    eager = [policies.predict_chunk(policy, observation(inputs, i), noise=n) for i, n in enumerate(noises)]
    fast = policies.optimize(policy, compile=True, compile_mode="reduce-overhead")
    for _ in range(2):  # the first round records the graphs, the second replays them
        chunks = [policies.predict_chunk(fast, observation(inputs, i), noise=n) for i, n in enumerate(noises)]
        for got, want in zip(chunks, eager, strict=True):
            torch.testing.assert_close(got, want, atol=1e-4, rtol=0)
