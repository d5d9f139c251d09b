"""The optimizer's kernel choice (fused / foreach) is the machine's, not the run's: training_state
writes it as LeRobot's optimizers have it, and a resume keeps the live optimizer's choice."""

from __future__ import annotations

import torch

from lerobot_fn.train import checkpoint


def _adam(**flags):
    params = [torch.nn.Parameter(torch.randn(3))]
    return torch.optim.Adam(params, lr=1e-3, **flags)


def test_kernel_flags_are_written_as_lerobots_and_kept_on_load():
    trained = _adam(foreach=True)
    trained.param_groups[0]["params"][0].grad = torch.ones(3)
    trained.step()
    flat, groups = checkpoint.optimizer_state(trained)
    assert groups[0]["foreach"] is None and groups[0]["fused"] is None
    resumed = _adam(foreach=False)
    checkpoint.load_optimizer_state(resumed, flat, groups)
    assert resumed.param_groups[0]["foreach"] is False
    assert resumed.param_groups[0]["lr"] == 1e-3
    torch.testing.assert_close(resumed.state[resumed.param_groups[0]["params"][0]]["exp_avg"],
                               trained.state[trained.param_groups[0]["params"][0]]["exp_avg"])
