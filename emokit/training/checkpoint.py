"""Epoch checkpoints that survive a crash or Ctrl-C, and resume exactly where they stopped.

Each epoch writes ``checkpoint/epoch-N/`` (model weights, optimizer variables, training
state) and only then points ``checkpoint/latest.json`` at it, with an atomic rename; a crash
mid-write leaves the previous checkpoint in charge. The best weights by validation accuracy go
to the run's ``model.weights.h5``, also by write-then-rename.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from emokit.atomic import atomic_path, write_json, write_text
from emokit.runs import Run


def latest_checkpoint(run: Run) -> dict[str, Any] | None:
    """The state of the newest complete checkpoint, or ``None``."""
    pointer = run.checkpoint_dir / "latest.json"
    if not pointer.exists():
        return None
    state = json.loads(pointer.read_text())
    state["dir"] = str(run.checkpoint_dir / state["name"])
    return state


def write_history_csv(path: Path, history: dict[str, list[float]]) -> None:
    """Per-epoch history as CSV (epoch, then one column per metric), written atomically."""
    keys = sorted(history)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["epoch", *keys])
    for i in range(len(history[keys[0]]) if keys else 0):
        writer.writerow([i + 1, *(f"{history[k][i]:.6g}" for k in keys)])
    write_text(path, buffer.getvalue())


def save_checkpoint(run: Run, core: Any, optimizer: Any, state: dict[str, Any]) -> None:
    """Write one epoch's checkpoint, then make it the latest and drop the older ones."""
    name = f"epoch-{state['epoch']}"
    folder = run.checkpoint_dir / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    core.save_weights(folder / "model.weights.h5")
    variables = {f"v{i}": np.asarray(v.numpy()) for i, v in enumerate(optimizer.variables)}
    np.savez(folder / "optimizer.npz", **variables)
    write_json(run.checkpoint_dir / "latest.json", {**state, "name": name})
    for old in run.checkpoint_dir.glob("epoch-*"):
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)


def restore_checkpoint(state: dict[str, Any], core: Any, optimizer: Any) -> None:
    """Load weights and optimizer variables saved by :func:`save_checkpoint` (the optimizer must be built)."""
    folder = Path(state["dir"])
    core.load_weights(folder / "model.weights.h5")
    with np.load(folder / "optimizer.npz") as saved:
        for i, variable in enumerate(optimizer.variables):
            variable.assign(saved[f"v{i}"])


def save_best_weights(run: Run, core: Any) -> None:
    """The best weights so far, atomically."""
    with atomic_path(run.weights_file) as tmp:
        core.save_weights(tmp)
