"""DDP under torchrun on the CPU (gloo): 2 processes x batch 2 == 1 process x batch 4, and only
rank 0 writes the run directory."""

from __future__ import annotations

import json

import pytest
import torch
from train_specs import assert_group_gone, finish, kill_group, start, weights, write_spec

from lerobot_fn import policies
from lerobot_fn.cli import main
from lerobot_fn.jobs.train_log import read_metrics
from lerobot_fn.policies import act

# deterministic given the batch (no VAE noise, no dropout) and no padding (chunk of 1), so the
# mean over two half-batches is exactly the mean over the whole batch
DETERMINISTIC = {"use_vae": False, "dropout": 0.0, "chunk_size": 1, "n_action_steps": 1}


@pytest.mark.timeout(240)
def test_two_gloo_processes_match_one_process_with_the_same_global_batch(tmp_path):
    spec = write_spec(tmp_path, "act", steps=3, batch_size=4, overrides=DETERMINISTIC,
                      extra="[optimizer]\nlr = 1e-3\n")
    assert main([str(spec), "--set", f"run.output_dir={str(tmp_path / 'one')!r}"]) == 0

    log = tmp_path / "torchrun.txt"
    proc = start([str(spec), "--set", "train.batch_size=2", "--set", "run.output_dir='two'"], tmp_path, log,
                 nproc=2, GLOO_SOCKET_IFNAME="lo")
    try:
        assert finish(proc, timeout=200) == 0, log.read_text()
    finally:
        kill_group(proc)
    assert_group_gone(proc)

    one, two = read_metrics(tmp_path / "one"), read_metrics(tmp_path / "two")
    assert [r["step"] for r in two] == [1, 2, 3], "rank 0 alone writes metrics.jsonl (one line per step)"
    for a, b in zip(one, two, strict=True):
        assert b["loss"] == pytest.approx(a["loss"], rel=1e-5, abs=1e-6)
        assert b["grad_norm"] == pytest.approx(a["grad_norm"], rel=1e-4)
        assert b["samples_per_s"] > 0
    # final weights: the same within float noise. Adam turns gradients that are rounding noise (e.g.
    # attention key biases, whose true gradient is 0) into full-size steps, so compare globally:
    # the two runs differ by far less than either moved from the initial weights
    w1, w2 = weights(tmp_path / "one"), weights(tmp_path / "two")
    assert w1.keys() == w2.keys()
    config = policies.load(tmp_path / "one" / "checkpoints" / "last").config
    torch.manual_seed(1000)  # train.seed: the initial weights both runs started from
    w0 = act.build_model(config).state_dict()
    moved = _norm({k: w1[k] - w0[k] for k in w1})
    assert moved > 0.1
    differ = _norm({k: w1[k] - w2[k] for k in w1})
    assert differ < 1e-2 * moved, (differ, moved)
    # rank 0 alone wrote the run directory: one run record, one "done", the same files as one process
    assert (tmp_path / "two" / "log.txt").read_text().count("done; outputs in") == 1
    assert json.loads((tmp_path / "two" / "run.json").read_text())["job"] == "train"
    files = sorted(p.relative_to(tmp_path / "two") for p in (tmp_path / "two").rglob("*"))
    assert files == sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["act.toml", "one", "torchrun.txt", "two"]
    step = json.loads((tmp_path / "two" / "checkpoints" / "last" / "training_state" / "training_step.json").read_text())
    assert step == {"step": 3, "num_processes": 2, "batch_size": 2}


def _norm(tensors: dict[str, torch.Tensor]) -> float:
    return float(torch.sqrt(sum((t.double() ** 2).sum() for t in tensors.values())))
