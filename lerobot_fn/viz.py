"""Figures for the notebooks: panels of curves over time, with the current step marked.

Plain matplotlib `Figure` objects built without pyplot (no global figure registry, nothing to
close, safe in a long-running notebook server); matplotlib is imported on first use (the
`notebooks` extra). marimo renders a returned `Figure` as a PNG.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def curves(
    panels: Mapping[str, tuple[Sequence[float], np.ndarray]],
    *,
    labels: Mapping[str, Sequence[str]] | None = None,
    marker: float | None = None,
    xlabel: str = "frame",
    width: float = 9.0,
    panel_height: float = 1.9,
    max_legend: int = 8,
):
    """One panel per entry `title -> (x (T,), y (T,) or (T, D))`, one line per column of y,
    named by `labels[title]` (legend shown up to `max_legend` lines). `marker` draws a vertical
    line at that x and a dot where each curve crosses it (the frame a slider points at)."""
    from matplotlib.figure import Figure

    if not panels:
        raise ValueError("curves: no panel to draw")
    labels = labels or {}
    fig = Figure(figsize=(width, panel_height * len(panels)), layout="constrained")
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (title, (x, y)) in zip(axes, panels.items(), strict=True):
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64).reshape(len(x), -1)
        names = list(labels.get(title) or [])
        for d in range(y.shape[1]):
            ax.plot(x, y[:, d], linewidth=1.2, label=names[d] if d < len(names) else str(d))
        if marker is not None and len(x):
            ax.axvline(marker, color="black", linewidth=1.0, alpha=0.7)
            i = int(np.argmin(np.abs(x - marker)))
            ax.plot(np.full(y.shape[1], x[i]), y[i], "o", color="black", markersize=3)
        ax.set_title(title, fontsize=9, loc="left")
        ax.tick_params(labelsize=8)
        ax.grid(alpha=0.3)
        if 1 < y.shape[1] <= max_legend:
            ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    axes[-1].set_xlabel(xlabel, fontsize=9)
    return fig


def png_bytes(fig, dpi: int = 80) -> bytes:
    """The figure as PNG bytes (what a notebook shows; also how tests compare figures)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()
