"""A run as the demo's Runs tab shows it: a Markdown summary of its metrics and its plots as arrays."""

from __future__ import annotations

from typing import Any

import numpy as np

from emokit.errors import EmokitError
from emokit.preprocess import read_image
from emokit.runs import Run


def _pct(value: Any) -> str:
    return f"{value:.1%}" if isinstance(value, (int, float)) else "-"


def _num(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) else "-"


def run_markdown(run: Run) -> str:
    """Configuration, state and per-split metrics (plus per-class F1) of a run, as Markdown."""
    config, metrics, status = run.config(), run.metrics(), run.status()
    options = ", ".join(f"{k}={v}" for k, v in (config.get("arch_options") or {}).items())
    lines = [
        f"### {run.name}",
        f"- **Architecture:** {config.get('arch', '?')}" + (f" ({options})" if options else ""),
        f"- **Data:** {config.get('data') or config.get('dataset') or metrics.get('dataset') or 'synthetic'}"
        f" · **backend:** {metrics.get('backend') or config.get('backend') or '?'}"
        f" · **epochs:** {metrics.get('epochs_run', '?')} of {config.get('epochs', '?')}"
        f" · **state:** {status.get('state', 'unknown')}",
        f"- **Folder:** `{run.path}`",
        "",
    ]
    splits = metrics.get("splits") or {}
    if not splits:
        lines.append("_No metrics yet: the run has not finished an evaluation._")
        return "\n".join(lines)
    lines += ["| split | accuracy | macro F1 | loss |", "|---|---:|---:|---:|"]
    for split, values in splits.items():
        lines.append(f"| {split} | {_pct(values.get('accuracy'))} | {_num(values.get('macro_f1'))} | {_num(values.get('loss'))} |")
    per_class = (splits.get("test") or splits.get("val") or {}).get("per_class") or {}
    if per_class:
        which = "test" if "test" in splits else "val"
        lines += ["", f"**Per class ({which})**", "", "| class | precision | recall | F1 | support |", "|---|---:|---:|---:|---:|"]
        for name, values in per_class.items():
            lines.append(
                f"| {name} | {_num(values.get('precision'))} | {_num(values.get('recall'))} | "
                f"{_num(values.get('f1'))} | {values.get('support', '-')} |"
            )
    return "\n".join(lines)


def run_plot(run: Run, name: str) -> np.ndarray | None:
    """A run's plot (``curves``, ``confusion_test``, ...) as an RGB array, or None if it was not drawn."""
    path = run.plots_dir / f"{name}.png"
    if not path.exists():
        return None
    try:
        return read_image(path)
    except EmokitError:
        return None  # a half-written plot of a run still training: show nothing rather than fail
