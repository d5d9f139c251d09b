"""lerobot_fn.viz: the notebook figures show one panel per signal and mark the current frame."""

from __future__ import annotations

import numpy as np
import pytest

from lerobot_fn import viz


def test_curves_one_panel_per_signal_one_line_per_dimension():
    x = np.arange(20)
    fig = viz.curves(
        {"state": (x, np.random.default_rng(0).normal(size=(20, 3))), "reward": (x, np.linspace(0, 1, 20))},
        labels={"state": ["a", "b", "c"]},
        marker=7,
    )
    state, reward = fig.axes[:2]
    assert state.get_title(loc="left") == "state" and reward.get_title(loc="left") == "reward"
    curves = [line for line in state.get_lines() if line.get_label() in ("a", "b", "c")]
    assert [c.get_label() for c in curves] == ["a", "b", "c"]
    marker_lines = [line for line in state.get_lines() if list(line.get_xdata()) == [7, 7]]
    assert marker_lines, "no vertical marker at frame 7"
    assert [t.get_text() for t in state.get_legend().get_texts()] == ["a", "b", "c"]


def test_png_changes_with_the_marker():
    x = np.arange(30)
    y = np.sin(x / 5.0)
    a, b = (viz.png_bytes(viz.curves({"s": (x, y)}, marker=m)) for m in (3, 20))
    assert a.startswith(b"\x89PNG") and b.startswith(b"\x89PNG")
    assert a != b
    assert viz.png_bytes(viz.curves({"s": (x, y)}, marker=3)) == a  # deterministic


def test_curves_without_panels_is_refused():
    with pytest.raises(ValueError, match="no panel"):
        viz.curves({})
