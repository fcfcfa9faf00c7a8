"""A run as the demo shows it: what it was trained on and how well it did (in the run picker and above the
tabs), a Markdown summary of its metrics (Runs tab) and its plots as arrays."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from emokit.errors import EmokitError
from emokit.preprocess import read_image
from emokit.runs import Run, trained_on, trained_on_synthetic

if TYPE_CHECKING:
    from emokit.records import ModelRecord


def _pct(value: Any) -> str:
    return f"{value:.1%}" if isinstance(value, (int, float)) else "-"


def _num(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, (int, float)) else "-"


#: Said wherever a synthetic-trained model's accuracy is shown: it is measured on synthetic faces too.
SYNTHETIC_WARNING = ("This model was trained on synthetic faces (procedurally drawn, not photos of people): "
                     "its accuracy is measured on synthetic faces and says little about real photos. "
                     "Train on FER-2013 (`emokit train --data fer2013.zip`) for a model that reads real faces.")


def data_description(run: Run) -> str:
    """The data a run was trained on, in words; synthetic faces are said plainly."""
    if trained_on_synthetic(run):
        return "synthetic faces (not real photos)"
    name = trained_on(run) or "unknown data"
    source = run.metadata().get("dataset_source") or run.config().get("data")
    return f"{name} ({source})" if source and str(source) != name else name


def accuracy_on_test(run: Run) -> float | None:
    """The run's accuracy on its test split (``None`` before its final evaluation)."""
    value = ((run.metrics().get("splits") or {}).get("test") or {}).get("accuracy")
    return value if isinstance(value, (int, float)) else None


def choice_label(run: Run, reason: str | None) -> str:
    """How the run picker lists a run: its name, data and test accuracy, or why it cannot answer."""
    if reason is not None:
        return f"{run.name} · cannot answer: {reason}"
    accuracy = accuracy_on_test(run)
    data = "synthetic faces" if trained_on_synthetic(run) else (trained_on(run) or "unknown data")
    return f"{run.name} · {data}" + (f" · test accuracy {accuracy:.1%}" if accuracy is not None else " · not evaluated yet")


def answering_facts(run: Run, runtime: str) -> str:
    """One line on what answers: run, training data, test accuracy and runtime (``emokit demo`` prints it too)."""
    accuracy = accuracy_on_test(run)
    scored = "not evaluated yet" if accuracy is None else (
        f"test accuracy {accuracy:.1%}" + (" on synthetic faces" if trained_on_synthetic(run) else ""))
    return f"run {run.name} · trained on {data_description(run)} · {scored} · runtime {runtime}"


def answering_markdown(run: Run, runtime: str) -> str:
    """The demo's "what answers" panel: :func:`answering_facts`, plus the synthetic warning where it applies."""
    text = f"**Answering:** {answering_facts(run, runtime)}"
    if trained_on_synthetic(run):
        text += f"\n\n⚠️ **Synthetic model.** {SYNTHETIC_WARNING}"
    return text


def run_markdown(run: Run) -> str:
    """Configuration, state and per-split metrics (plus per-class F1) of a run, as Markdown."""
    config, metrics, status = run.config(), run.metrics(), run.status()
    options = ", ".join(f"{k}={v}" for k, v in (config.get("arch_options") or {}).items())
    lines = [
        f"### {run.name}",
        f"- **Architecture:** {config.get('arch', '?')}" + (f" ({options})" if options else ""),
        f"- **Data:** {data_description(run)}"
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
    if trained_on_synthetic(run):
        lines += [f"_{SYNTHETIC_WARNING}_", ""]
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


def model_accuracy(record: ModelRecord) -> str:
    """A bundled model's recorded accuracy figures in words (``PublicTest 70.1% · PublicTest ten-crop 72.0%``)."""
    figures = [f"{what} {value:.1%}" for what, value in record.accuracy.items() if isinstance(value, (int, float))]
    return "accuracy " + " · ".join(figures) if figures else "accuracy not recorded"


def model_choice_label(record: ModelRecord) -> str:
    """How the picker lists a bundled model: name, that it is bundled, its data and accuracy."""
    data = record.trained_on or "unknown data"
    return f"{record.name} · bundled model · {data} · {model_accuracy(record)}"


def model_facts(record: ModelRecord, runtime: str) -> str:
    """One line on what answers when a bundled model does (``emokit demo`` prints it too)."""
    data = record.trained_on or "unknown data"
    return f"bundled model {record.name} · trained on {data} · {model_accuracy(record)} · runtime {runtime}"


def model_answering_markdown(record: ModelRecord, runtime: str) -> str:
    """The "what answers" panel for a bundled model."""
    text = f"**Answering:** {model_facts(record, runtime)}"
    if record.card:
        text += f" · model card: `{record.card}`"
    return text


def model_markdown(record: ModelRecord) -> str:
    """The Runs tab for a bundled model: what it is, its accuracy figures and where its card is."""
    lines = [f"### {record.name} (bundled model)", f"- **What:** {record.summary}",
             f"- **Trained on:** {record.trained_on or 'unknown data'}", f"- **Runtime:** {record.runtime}"]
    if record.card:
        lines.append(f"- **Model card** (data, how to reproduce it, per-class figures, limits): `{record.card}`")
    lines.append("")
    if record.accuracy:
        lines += ["| measured on | accuracy |", "|---|---:|"]
        lines += [f"| {what} | {_pct(value)} |" for what, value in record.accuracy.items()]
    else:
        lines.append("_No accuracy recorded with this model._")
    return "\n".join(lines)
