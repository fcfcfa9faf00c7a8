"""A video's timeline as a PNG: each face's top emotion and its probability over time, one row per face id.

Drawn by matplotlib's Agg canvas on a plain ``Figure`` (the pattern of :mod:`emokit.plots`): no
pyplot, so a host application's matplotlib backend is never switched and nothing outlives the call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from emokit.atomic import atomic_path
from emokit.inference.annotate import color_for

#: At most this many faces get a row (those seen in the most frames); the title says how many were left out.
MAX_TIMELINE_FACES = 8


def plot_timeline(series: Mapping[int, Sequence[tuple[float, str, float]]], class_names: Sequence[str], path: Path,
                  title: str = "") -> Path:
    """Write ``series`` (face id -> (time s, top emotion, its probability) per frame) to ``path`` as a PNG.

    Each face's row plots its top emotion's probability over time, each point coloured by that
    emotion (a legend names the colours); a video without faces gives a plot that says so.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415 - matplotlib only when plotting
    from matplotlib.figure import Figure  # noqa: PLC0415
    from matplotlib.lines import Line2D  # noqa: PLC0415

    shown = sorted(sorted(series, key=lambda i: -len(series[i]))[:MAX_TIMELINE_FACES])
    rows = max(1, len(shown))
    fig = Figure(figsize=(10, 1.2 + 1.5 * rows))
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False)[:, 0]
    rgb = {name: tuple(c / 255 for c in color_for(name, class_names)) for name in class_names}
    for ax, face_id in zip(axes, shown):
        points = series[face_id]
        times = [t for t, _, _ in points]
        ax.plot(times, [p for _, _, p in points], color="0.75", linewidth=0.8, zorder=1)
        ax.scatter(times, [p for _, _, p in points], c=[rgb.get(e, (0, 0, 0)) for _, e, _ in points], s=9, zorder=2)
        ax.set_ylim(0, 1.05)
        ax.set_ylabel(f"face #{face_id}")
        ax.grid(alpha=0.3)
    if not shown:
        axes[0].text(0.5, 0.5, "no face found", ha="center", va="center", transform=axes[0].transAxes)
        axes[0].set_yticks([])
    axes[-1].set_xlabel("time (s)")
    left_out = len(series) - len(shown)
    heading = f"{title}: top emotion's probability per face" if title else "top emotion's probability per face"
    if left_out:
        heading += f" ({left_out} briefer faces not shown)"
    fig.suptitle(heading, fontsize=10)
    handles = [Line2D([], [], marker="o", linestyle="", color=rgb[name], label=name) for name in class_names]
    fig.legend(handles=handles, loc="upper right", ncol=min(len(handles), 7), fontsize=8, frameon=False,
               bbox_to_anchor=(1.0, 1.0 - 0.25 / (1.2 + 1.5 * rows)))
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.5 / (1.2 + 1.5 * rows)))
    with atomic_path(Path(path)) as tmp:
        fig.savefig(tmp, dpi=100)
    return Path(path)
