"""PNG plots of a run: accuracy and loss curves, confusion matrices, curve overlays of several runs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from emokit.atomic import atomic_path


def _figure(figsize: tuple[float, float]) -> Figure:
    """A figure drawn by Agg into files: no pyplot, so the process's matplotlib backend is never switched
    (a host application's interactive backend keeps working) and nothing is kept after the figure is saved."""
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
    return path


def plot_curves(histories: Mapping[str, Mapping[str, Sequence[float]]], path: Path) -> Path:
    """Accuracy and loss per epoch, train (dashed) and validation (solid), one colour per run."""
    fig = _figure((11, 4))
    acc_ax, loss_ax = fig.subplots(1, 2)
    for i, (label, history) in enumerate(histories.items()):
        color = f"C{i}"
        epochs = np.arange(1, len(history.get("loss", [])) + 1)
        for ax, key in ((acc_ax, "accuracy"), (loss_ax, "loss")):
            if history.get(key):
                ax.plot(epochs, history[key], "--", color=color, alpha=0.7, label=f"{label} train")
            if history.get(f"val_{key}"):
                ax.plot(epochs, history[f"val_{key}"], "-", color=color, label=f"{label} val")
    for ax, title in ((acc_ax, "accuracy"), (loss_ax, "loss")):
        ax.set_title(title)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    return _save(fig, path)


def plot_confusion(matrix: Sequence[Sequence[int]], class_names: Sequence[str], path: Path, title: str) -> Path:
    """A confusion matrix normalised per true class, with counts in each cell."""
    counts = np.asarray(matrix)
    rates = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig = _figure((6.5, 5.5))
    ax = fig.subplots()
    image = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(class_names)), class_names, rotation=45, ha="right")
    ax.set_yticks(range(len(class_names)), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for (row, col), value in np.ndenumerate(counts):
        ax.text(col, row, str(value), ha="center", va="center", fontsize=8, color="white" if rates[row, col] > 0.5 else "black")
    fig.colorbar(image, ax=ax, fraction=0.046)
    return _save(fig, path)
