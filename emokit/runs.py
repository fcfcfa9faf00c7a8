"""A run is a directory. This module knows its layout; everything downstream reads runs through it."""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emokit.errors import EmokitError
from emokit.spec import ModelSpec

RUNS_ENV = "EMOKIT_RUNS_DIR"


def runs_root(explicit: Path | str | None = None) -> Path:
    """Where runs live: ``--out``/``--runs``, else ``$EMOKIT_RUNS_DIR``, else ``./runs``."""
    return Path(explicit or os.environ.get(RUNS_ENV) or "runs")


@dataclass(frozen=True)
class Run:
    """One run directory and the files in it."""

    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    config_file = property(lambda self: self.path / "config.json")
    spec_file = property(lambda self: self.path / "spec.json")
    weights_file = property(lambda self: self.path / "model.weights.h5")
    history_file = property(lambda self: self.path / "history.csv")
    metrics_file = property(lambda self: self.path / "metrics.json")
    metadata_file = property(lambda self: self.path / "metadata.json")
    status_file = property(lambda self: self.path / "status.json")
    checkpoint_dir = property(lambda self: self.path / "checkpoint")
    plots_dir = property(lambda self: self.path / "plots")
    #: Per-face predictions of each evaluated split (``<split>.npz``; see :mod:`emokit.split_predictions`).
    predictions_dir = property(lambda self: self.path / "predictions")

    def read_json(self, path: Path) -> dict[str, Any]:
        """A JSON file of this run as a dict (empty if absent); invalid JSON is a one-line error naming the file."""
        if not path.exists():
            return {}
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError as exc:
            raise EmokitError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}).") from None

    def config(self) -> dict[str, Any]:
        return self.read_json(self.config_file)

    def metrics(self) -> dict[str, Any]:
        return self.read_json(self.metrics_file)

    def metadata(self) -> dict[str, Any]:
        return self.read_json(self.metadata_file)

    def status(self) -> dict[str, Any]:
        """``status.json``; a "running" run whose process on this host is gone (``kill -9``) reads "stopped (process gone)"."""
        import socket  # noqa: PLC0415 - only this method needs it

        status = self.read_json(self.status_file) or {"state": "unknown"}
        pid = status.get("pid")
        if status.get("state") != "running" or not isinstance(pid, int) or status.get("host") != socket.gethostname():
            return status  # an older run without a pid, or another machine's process: cannot be checked from here
        try:
            os.kill(pid, 0)  # signal 0 checks that the process exists
            stat = Path(f"/proc/{pid}/stat")
            # A killed process its parent has not reaped yet is a zombie: it no longer trains.
            gone = stat.exists() and stat.read_text().rsplit(")", 1)[-1].split()[0] == "Z"
        except ProcessLookupError:
            gone = True
        except (PermissionError, OSError, IndexError):  # another user's live process, or /proc unreadable
            gone = False
        return {**status, "state": "stopped (process gone)"} if gone else status

    def spec(self) -> ModelSpec:
        if not self.spec_file.exists():
            raise EmokitError(f"Run '{self.path}' has no spec.json: not an emokit run, or it was never started.")
        return ModelSpec.from_json(self.spec_file.read_text())

    def history(self) -> dict[str, list[float]]:
        """Per-epoch history columns from history.csv (empty if none yet)."""
        if not self.history_file.exists():
            return {}
        with self.history_file.open(newline="") as handle:
            rows = list(csv.DictReader(handle))
        columns: dict[str, list[float]] = {}
        for row in rows:
            for key, value in row.items():
                columns.setdefault(key, []).append(float(value))
        return columns


def is_run(path: Path) -> bool:
    """Whether ``path`` looks like a run directory."""
    return (path / "config.json").is_file()


def list_runs(root: Path) -> list[Run]:
    """Every run under ``root``, oldest first."""
    if not root.is_dir():
        return []
    runs = [Run(p) for p in root.iterdir() if p.is_dir() and is_run(p)]
    return sorted(runs, key=lambda r: (r.config_file.stat().st_mtime, r.name))


def unusable_reason(run: Run) -> str | None:
    """Why ``run`` cannot answer a prediction yet (no spec, no trained weights), or ``None`` if it can."""
    if not run.spec_file.is_file():
        return "never started (no spec.json)"
    if not run.weights_file.is_file():
        state = run.status().get("state", "unknown")
        return f"no trained weights yet, {state}"
    return None


def require_usable(run: Run) -> Run:
    """``run`` itself if it can answer; else a one-line error saying why, checked before any model loads."""
    reason = unusable_reason(run)
    if reason is not None:
        raise EmokitError(f"Run '{run.path}' cannot answer: {reason}. `emokit runs` lists the runs and which have weights.")
    return run


def is_synthetic(dataset: str | None) -> bool:
    """Whether ``dataset`` names emokit's built-in synthetic faces."""
    from emokit.data import SYNTHETIC  # noqa: PLC0415 - the data package loads NumPy; listing runs need not

    return dataset == SYNTHETIC


def trained_on(run: Run) -> str | None:
    """The name of the dataset ``run`` learnt from (``synthetic``, ``fer2013``, ...), or ``None`` if not recorded yet."""
    return run.metadata().get("dataset") or run.metrics().get("dataset")


def trained_on_synthetic(run: Run) -> bool:
    """Whether ``run`` learnt from the built-in synthetic faces: then its accuracy says nothing about real photos."""
    return is_synthetic(trained_on(run))


def latest_usable_run(root: Path) -> Run:
    """The newest run that can answer; runs newer than it are named with the reason they cannot.

    A run still training before its first checkpoint, or stopped before one, has no weights: picking
    it by age alone made ``latest`` (and the demo's default) fail as if the user's photo were at fault.
    """
    runs = list_runs(root)
    if not runs:
        raise EmokitError(f"No runs in '{root}'. Train one: emokit train --arch small_cnn")
    skipped: list[str] = []
    for run in reversed(runs):
        reason = unusable_reason(run)
        if reason is None:
            return run
        skipped.append(f"{run.name}: {reason}")
    raise EmokitError(f"No run in '{root}' has trained weights yet ({'; '.join(skipped[:5])}). "
                      "Wait for a first epoch to finish, or train one: emokit train --arch small_cnn")


def skipped_newer_runs(root: Path, chosen: Run) -> list[tuple[Run, str]]:
    """The runs newer than ``chosen`` that ``latest`` passed over, newest first, each with why it cannot answer."""
    runs = list_runs(root)
    newer = runs[runs.index(chosen) + 1:] if chosen in runs else []
    return [(run, reason) for run in reversed(newer) if (reason := unusable_reason(run)) is not None]


def describe_skipped(chosen: Run, skipped: list[tuple[Run, str]], limit: int = 3) -> str | None:
    """One line telling the user that ``latest`` is ``chosen`` and which newer runs it skipped, and why; ``None`` if none."""
    if not skipped:
        return None
    named = "; ".join(f"{run.name} ({reason})" for run, reason in skipped[:limit])
    more = f"; and {len(skipped) - limit} more" if len(skipped) > limit else ""
    return f"Using {chosen.name}, the newest run with trained weights; skipped newer: {named}{more}."


def find_run(ref: str | Path, root: Path | None = None) -> Run:
    """A run by path, by name under the runs root, or ``latest`` (the newest usable run); an unknown one lists the runs there."""
    root = runs_root(root)
    path = Path(ref)
    if is_run(path):
        return Run(path)
    if str(ref) == "latest":
        return latest_usable_run(root)
    if is_run(root / path):
        return Run(root / path)
    names = [r.name for r in list_runs(root)]
    known = ", ".join(names[-10:]) if names else "none; train one with: emokit train --arch small_cnn"
    raise EmokitError(f"Run '{ref}' not found (looked in '{path}' and '{root / path}'). Runs in {root}: {known}.")
