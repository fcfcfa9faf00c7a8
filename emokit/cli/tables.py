"""Rich tables shared by several commands, and how their values are written."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from emokit.run_groups import Spread
from emokit.runs import Run, is_synthetic, trained_on

#: Said under every table of accuracies measured on the built-in synthetic faces. Short enough
#: not to wrap on an 80-column terminal.
SYNTHETIC_NOTE = "Measured on synthetic faces, not on real photos."


def percent(value: float | None) -> str:
    """An accuracy or other share: ``0.9952`` -> ``99.52%``; ``-`` when absent."""
    return "-" if value is None else f"{value:.2%}"


def seconds(value: float | None) -> str:
    """A duration: ``77.7`` -> ``78s``, ``3725`` -> ``1h 2m 5s``; ``-`` when absent."""
    if value is None:
        return "-"
    hours, rest = divmod(round(value), 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours}h"] * bool(hours) + [f"{minutes}m"] * bool(hours or minutes) + [f"{secs}s"]
    return " ".join(parts)


def mean_std(value: Spread | None) -> str:
    """An accuracy over a seed group: ``97.14 ± 0.52%`` (mean ± sample std, in points); one run's alone; ``-`` when absent."""
    if value is None:
        return "-"
    if value.std is None:
        return percent(value.mean)
    return f"{value.mean * 100:.2f} ± {value.std * 100:.2f}%"


def fraction(value: float | None) -> str:
    """A score in [0, 1] read as such (macro-F1): ``0.7345`` -> ``0.735``; ``-`` when absent."""
    return "-" if value is None else f"{value:.3f}"


def titled(lines: Sequence[str], table: Table) -> RenderableType:
    """``table`` under title ``lines``, each its own line: a table's own title wraps at the table's width,
    which cuts a phrase like "best epoch 3 of 5" in two, while these wrap only on a narrower terminal."""
    return Group(*(Text(line, style="table.title") for line in lines), table)


def split_metrics_table(title: str | Sequence[str], splits: dict[str, dict[str, Any]], *,
                        dataset: str | None = None) -> RenderableType:
    """Accuracy, loss and macro-F1 per split under ``title`` (a line or lines).

    On the built-in synthetic faces (``dataset``), every row says so and a note says what that means:
    a near-perfect score there must never read as a claim about real photos.
    """
    synthetic = is_synthetic(dataset)
    table = Table()
    table.add_column("split")
    table.add_column("images", justify="right")
    table.add_column("accuracy", justify="right")
    table.add_column("loss", justify="right")
    table.add_column("macro-F1", justify="right")
    for split, m in splits.items():
        label = f"{split} (synthetic)" if synthetic else split
        table.add_row(label, f"{m['images']:,}", percent(m["accuracy"]), f"{m['loss']:.4f}", fraction(m["macro_f1"]))
    lines = [title] if isinstance(title, str) else list(title)
    return titled([*lines, SYNTHETIC_NOTE] if synthetic else lines, table)


def per_class_table(split: str, metrics: dict[str, Any], *, dataset: str | None = None) -> Table:
    """Precision, recall, F1 and support per class for one split (of ``dataset``, named when synthetic)."""
    label = f"{split} (synthetic)" if is_synthetic(dataset) else split
    table = Table(title=f"{label}: per class", title_justify="left")
    for column in ("class", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="left" if column == "class" else "right")
    for name, m in metrics["per_class"].items():
        table.add_row(name, fraction(m["precision"]), fraction(m["recall"]), fraction(m["f1"]), str(m["support"]))
    return table


def metrics_table(run: Run) -> RenderableType:
    """The results table printed at the end of a training."""
    metrics = run.metrics()
    title = [f"Results of {run.name}",
             f"best epoch {metrics.get('best_epoch')} of {metrics.get('epochs_run')}, on {metrics.get('backend')}"]
    return split_metrics_table(title, metrics.get("splits", {}), dataset=trained_on(run))
