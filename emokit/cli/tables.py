"""Rich tables shared by several commands."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from emokit.runs import Run


def split_metrics_table(title: str, splits: dict[str, dict[str, Any]]) -> Table:
    """Accuracy, loss and macro-F1 per split, then per-class precision/recall/F1 for each split."""
    table = Table(title=title, title_justify="left")
    table.add_column("split")
    table.add_column("images", justify="right")
    table.add_column("accuracy", justify="right")
    table.add_column("loss", justify="right")
    table.add_column("macro-F1", justify="right")
    for split, m in splits.items():
        table.add_row(split, f"{m['images']:,}", f"{m['accuracy']:.2%}", f"{m['loss']:.4f}", f"{m['macro_f1']:.3f}")
    return table


def per_class_table(split: str, metrics: dict[str, Any]) -> Table:
    """Precision, recall, F1 and support per class for one split."""
    table = Table(title=f"{split}: per class", title_justify="left")
    for column in ("class", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="left" if column == "class" else "right")
    for name, m in metrics["per_class"].items():
        table.add_row(name, f"{m['precision']:.3f}", f"{m['recall']:.3f}", f"{m['f1']:.3f}", str(m["support"]))
    return table


def metrics_table(run: Run) -> Table:
    """The results table printed at the end of a training."""
    metrics = run.metrics()
    title = f"{run.name}: best epoch {metrics.get('best_epoch')} of {metrics.get('epochs_run')} ({metrics.get('backend')})"
    return split_metrics_table(title, metrics.get("splits", {}))
