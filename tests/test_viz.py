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


def test_marked_curves_equal_a_full_redraw():
    x = np.arange(40)
    panels = {"s": (x, np.stack([np.sin(x / 6.0), np.cos(x / 6.0)], 1)), "r": (x, x / 40.0)}
    plot = viz.MarkedCurves(panels, labels={"s": ["sin", "cos"]})
    from io import BytesIO

    from PIL import Image

    def pixels(png):
        return np.asarray(Image.open(BytesIO(png)).convert("RGB")).astype(int)

    at5, at30 = pixels(plot.png(5)), pixels(plot.png(30))
    assert at5.shape == at30.shape and (at5 != at30).any()
    assert np.array_equal(pixels(plot.png(5)), at5)  # the marker of 30 is gone again
    full = pixels(viz.png_bytes(viz.curves(panels, labels={"s": ["sin", "cos"]}, marker=5)))
    assert full.shape == at5.shape
    assert (np.abs(full - at5) > 32).mean() < 0.002  # same picture (anti-aliasing aside)
