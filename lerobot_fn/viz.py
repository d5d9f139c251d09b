"""Figures for the notebooks: panels of curves over time, with the current step marked.

Plain matplotlib `Figure` objects built without pyplot (no global figure registry, nothing to
close, safe in a long-running notebook server); matplotlib is imported on first use (the
`notebooks` extra). marimo renders a returned `Figure` as a PNG. `MarkedCurves` draws the curves
once and then only the moving marker (Agg blitting), so a frame slider redraws in milliseconds.
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
    dpi: int = 80,
):
    """One panel per entry `title -> (x (T,), y (T,) or (T, D))`, one line per column of y,
    named by `labels[title]` (legend shown up to `max_legend` lines). `marker` draws a vertical
    line at that x and a dot where each curve crosses it (the frame a slider points at)."""
    from matplotlib.figure import Figure

    if not panels:
        raise ValueError("curves: no panel to draw")
    labels = labels or {}
    fig = Figure(figsize=(width, panel_height * len(panels)), dpi=dpi, layout="constrained")
    axes = fig.subplots(len(panels), 1, sharex=True, squeeze=False)[:, 0]
    for ax, (title, (x, y)) in zip(axes, panels.items(), strict=True):
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64).reshape(len(x), -1)
        names = list(labels.get(title) or [])
        style = {"marker": "o", "markersize": 3} if len(x) <= 10 else {}  # a few points (evals) stay visible
        for d in range(y.shape[1]):
            ax.plot(x, y[:, d], linewidth=1.2, label=names[d] if d < len(names) else str(d), **style)
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


def png_bytes(fig, dpi: int | None = None) -> bytes:
    """The figure as PNG bytes (what a notebook shows; also how tests compare figures)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi or fig.dpi)
    return buf.getvalue()


class MarkedCurves:
    """`curves` without a marker, drawn once; `png(x)` adds the marker at `x` (a vertical line
    and a dot on each curve) by restoring the saved background and drawing only those artists."""

    def __init__(self, panels: Mapping[str, tuple[Sequence[float], np.ndarray]], **kwargs):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.figure = curves(panels, marker=None, **kwargs)
        self._data = [
            (np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64).reshape(len(x), -1))
            for x, y in panels.values()
        ]
        self._canvas = FigureCanvasAgg(self.figure)
        self._canvas.draw()  # fixes the layout; the animated marker artists are left out
        self._background = self._canvas.copy_from_bbox(self.figure.bbox)
        self._markers = []
        for ax, (x, y) in zip(self.figure.axes, self._data, strict=False):
            line = ax.axvline(0, color="black", linewidth=1.0, alpha=0.7, animated=True)
            (dots,) = ax.plot([], [], "o", color="black", markersize=3, animated=True)
            self._markers.append((ax, line, dots, x, y))

    def png(self, marker: float) -> bytes:
        """PNG bytes of the figure with the marker at `marker`."""
        import io

        from PIL import Image

        self._canvas.restore_region(self._background)
        for ax, line, dots, x, y in self._markers:
            line.set_xdata([marker, marker])
            if len(x):
                i = int(np.argmin(np.abs(x - marker)))
                dots.set_data(np.full(y.shape[1], x[i]), y[i])
            ax.draw_artist(line)
            ax.draw_artist(dots)
        buf = io.BytesIO()
        Image.fromarray(np.asarray(self._canvas.buffer_rgba())).save(buf, format="PNG", compress_level=1)
        return buf.getvalue()
