"""Diffusion Policy vs LeRobot 0.6.1 on configs unlike the shared fixture.

`data/diffusion_reference.*` was written by LeRobot's own DiffusionPolicy (see
`data/make_diffusion_reference.py`): two cameras with separate BatchNorm encoders, resize +
crop_ratio, environment state, n_obs_steps 3, DDIM with "sample" prediction, bias-only FiLM; and an
image-free DDPM config with n_obs_steps 1. Weights are filled per key by the script's
`deterministic_weights`, so only small tensors are stored.
"""

from __future__ import annotations

import copy
import importlib.util
import json
from pathlib import Path

import attrs
import pytest
import torch
from safetensors.torch import load_file

from lerobot_fn.policies import diffusion as dp

DATA = Path(__file__).parent / "data"
REF = load_file(DATA / "diffusion_reference.safetensors")
META = json.loads((DATA / "diffusion_reference.json").read_text())
TOL = 1e-4


def _script():
    spec = importlib.util.spec_from_file_location(
        "make_diffusion_reference", DATA / "make_diffusion_reference.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # imports only torch at module level
    return module


SCRIPT = _script()


@pytest.fixture(scope="module", params=sorted(META["policies"]))
def case(request):
    name = request.param
    entry = META["policies"][name]
    config = dp.Config.from_dict(entry["config"])
    model = dp.build_model(config)
    model.load_state_dict(SCRIPT.deterministic_weights(model.state_dict()), strict=True)
    return name, entry, config, model.eval()


def _tensors(prefix: str) -> dict[str, torch.Tensor]:
    return SCRIPT.as_float(
        {k[len(prefix) :]: v for k, v in REF.items() if k.startswith(prefix) and "/" not in k[len(prefix) :]}
    )


def test_config_json_round_trips_exactly(case):
    _, entry, config, _ = case
    assert config.to_dict() == entry["config"]
    assert list(config.to_dict()) == list(entry["config"])


def test_state_dict_keys_and_shapes_match_lerobot(case):
    _, entry, _, model = case
    assert {k: list(v.shape) for k, v in model.state_dict().items()} == entry["state_dict"]


def test_predict_chunk_matches_lerobot(case):
    name, _, config, model = case
    p = f"policies/{name}/predict_chunk/"
    batch = {k: v for k, v in _tensors(p).items() if k not in ("noise", "action")}
    steps = [REF[f"{p}step_noise/{j}"] for j in range(sum(1 for k in REF if k.startswith(f"{p}step_noise/")))]
    with torch.no_grad():
        chunk = dp.predict_chunk(model, config, batch, noise={"initial": REF[f"{p}noise"], "steps": steps})
    assert chunk.shape == REF[f"{p}action"].shape
    assert (chunk - REF[f"{p}action"]).abs().max() <= TOL


def test_select_action_sequence_matches_lerobot(case):
    name, entry, config, model = case
    p = f"policies/{name}/select_action/"
    state = dp.initial_state(config)
    t = 0
    while f"{p}{t}/action" in REF:
        frame = {k: v for k, v in _tensors(f"{p}{t}/").items() if k != "action"}
        noise = None
        if t in entry["generations"]:
            steps = [
                REF[k]
                for k in sorted(
                    (k for k in REF if k.startswith(f"{p}step_noise/{t}/")),
                    key=lambda k: int(k.rsplit("/", 1)[1]),
                )
            ]
            noise = {"initial": REF[f"{p}noise/{t}"], "steps": steps}
        assert (len(state.actions) == 0) == (t in entry["generations"]), (
            f"step {t}: chunk regeneration differs"
        )
        with torch.no_grad():
            action, state = dp.select_action(model, config, frame, state, noise=noise)
        assert (action - REF[f"{p}{t}/action"]).abs().max() <= TOL, f"step {t}"
        t += 1
    assert t > config.n_action_steps


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_loss_matches_lerobot_under_the_same_rng(case, mode):
    """Same draws in the same order (crop offsets, noise, timesteps) from a seeded default RNG."""
    name, _, config, model = case
    batch = _tensors(f"policies/{name}/loss/")
    batch = {k: v for k, v in batch.items() if k not in ("train", "eval")}
    if mode == "train":
        model = copy.deepcopy(model).train()  # training mode updates BatchNorm statistics
    torch.manual_seed(123)
    value, metrics = dp.loss(model, config, batch)
    assert abs(value.item() - REF[f"policies/{name}/loss/{mode}"].item()) <= TOL
    assert float(metrics["loss"]) == pytest.approx(value.item())


def test_seeded_init_matches_lerobot(case):
    """torch.manual_seed(0) then build: every tensor equals LeRobot's fresh init (BatchNorm stats included)."""
    _, entry, config, _ = case
    torch.manual_seed(0)
    fresh = dp.build_model(config).state_dict()
    for key, (total, abs_total) in entry["seeded_init_sums"].items():
        v = fresh[key].double()
        assert v.sum().item() == pytest.approx(total, rel=1e-6, abs=1e-6), key
        assert v.abs().sum().item() == pytest.approx(abs_total, rel=1e-6, abs=1e-6), key


def test_default_rng_draw_order_matches_lerobot(case):
    """No noise given: after the same torch.manual_seed, the same draws in the same order as LeRobot."""
    name, _, config, model = case
    p = f"policies/{name}/predict_chunk/"
    batch = {k: v for k, v in _tensors(p).items() if k not in ("noise", "action", "action_seed7")}
    torch.manual_seed(7)
    with torch.no_grad():
        chunk = dp.predict_chunk(model, config, batch)
    assert (chunk - REF[f"{p}action_seed7"]).abs().max() <= TOL


def test_compile_model_checkpoints_keep_lerobots_keys():
    """LeRobot wraps the UNet in torch.compile when compile_model=True, which renames its state_dict
    keys (`diffusion.unet._orig_mod.`); such checkpoints must still load strictly."""
    config = attrs.evolve(
        dp.Config.from_dict(META["policies"]["env_only_ddpm_one_obs"]["config"]), compile_model=True
    )
    model = dp.build_model(config)  # compiles lazily: nothing runs here
    assert list(model.state_dict()) == META["compile_model_state_dict_keys"]
    plain = dp.build_model(attrs.evolve(config, compile_model=False)).state_dict()
    renamed = {k.replace("diffusion.unet.", "diffusion.unet._orig_mod."): v for k, v in plain.items()}
    model.load_state_dict(renamed, strict=True)
