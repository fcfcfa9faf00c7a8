"""Epoch checkpoints that survive a crash or Ctrl-C, and resume exactly where they stopped.

Each epoch writes ``checkpoint/epoch-N/`` (model weights, optimizer variables, training state)
and only then points ``checkpoint/latest.json`` at it, with an atomic rename; a crash mid-write
leaves the previous checkpoint in charge. The previous epoch's folder is kept too, so a damaged
file in the newest checkpoint (a disk error, a truncated copy) falls back to the one before it.
The best weights by validation accuracy go to the run's ``model.weights.h5``, also by
write-then-rename, and their SHA-256 is recorded in the run.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from emokit.artefacts import first_line, load_weights, record_artefact
from emokit.atomic import atomic_path, write_json, write_text
from emokit.errors import EmokitError
from emokit.runs import Run

POINTER = "latest.json"
STATE = "state.json"
WEIGHTS = "model.weights.h5"
OPTIMIZER = "optimizer.npz"
#: Checkpoints kept: the newest and the one before it, to fall back to when the newest is damaged.
KEPT = 2


class DamagedCheckpoint(EmokitError):
    """A checkpoint file that cannot be read; the message names it."""


def write_history_csv(path: Path, history: dict[str, list[float]]) -> None:
    """Per-epoch history as CSV (epoch, then one column per metric), written atomically."""
    keys = sorted(history)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["epoch", *keys])
    for i in range(len(history[keys[0]]) if keys else 0):
        writer.writerow([i + 1, *(f"{history[k][i]:.6g}" for k in keys)])
    write_text(path, buffer.getvalue())


def _epoch(folder: Path) -> int:
    suffix = folder.name.removeprefix("epoch-")
    return int(suffix) if suffix.isdigit() else -1


def save_checkpoint(run: Run, core: Any, optimizer: Any, state: dict[str, Any]) -> None:
    """Write one epoch's checkpoint, make it the latest, and keep only the newest :data:`KEPT`."""
    name = f"epoch-{state['epoch']}"
    folder = run.checkpoint_dir / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    core.save_weights(folder / WEIGHTS)
    variables = {f"v{i}": np.asarray(v.numpy()) for i, v in enumerate(optimizer.variables)}
    np.savez(folder / OPTIMIZER, **variables)
    write_json(folder / STATE, state)
    write_json(run.checkpoint_dir / POINTER, {**state, "name": name})
    folders = sorted((p for p in run.checkpoint_dir.glob("epoch-*") if p.is_dir()), key=_epoch, reverse=True)
    for old in folders[KEPT:]:
        shutil.rmtree(old, ignore_errors=True)


def _read_state(path: Path) -> dict[str, Any]:
    """A checkpoint state (``latest.json`` or an epoch's ``state.json``); a damaged one names the file."""
    try:
        state = json.loads(path.read_text())
        if not isinstance(state, dict) or not isinstance(state.get("epoch"), int) or not isinstance(state.get("history"), dict):
            raise ValueError("not a checkpoint state")
    except (OSError, ValueError) as exc:
        raise DamagedCheckpoint(f"'{path}' is damaged ({type(exc).__name__}: {first_line(exc)}).") from None
    return state


def _candidates(run: Run, warn: Callable[[str], None]) -> list[dict[str, Any]]:
    """The states of the checkpoints on disk (with their ``dir``): the one ``latest.json`` names, then newest first."""
    found: list[dict[str, Any]] = []
    pointer = run.checkpoint_dir / POINTER
    if pointer.exists():
        try:
            state = _read_state(pointer)
            found.append({**state, "dir": str(run.checkpoint_dir / str(state.get("name", f"epoch-{state['epoch']}")))})
        except DamagedCheckpoint as exc:
            warn(str(exc))
    folders = sorted((p for p in run.checkpoint_dir.glob("epoch-*") if p.is_dir()), key=_epoch, reverse=True)
    for folder in folders:
        if (found and Path(found[0]["dir"]) == folder) or not (folder / STATE).exists():
            continue  # the pointer's own, or a folder whose writing never finished
        try:
            found.append({**_read_state(folder / STATE), "dir": str(folder)})
        except DamagedCheckpoint as exc:
            warn(str(exc))
    for state in found:
        state.pop("name", None)
    return found


def restore_checkpoint(state: dict[str, Any], core: Any, optimizer: Any) -> None:
    """Load weights and optimizer variables saved by :func:`save_checkpoint` (the optimizer must be built).

    A garbage, truncated or wrong-shape file is a :class:`DamagedCheckpoint` naming it; nothing in
    the optimizer is changed unless every saved variable fits.
    """
    folder = Path(state["dir"])
    try:
        load_weights(core, folder / WEIGHTS)
    except EmokitError as exc:
        raise DamagedCheckpoint(str(exc)) from None
    path = folder / OPTIMIZER
    try:
        with np.load(path) as saved:
            values = [saved[f"v{i}"] for i in range(len(optimizer.variables))]
            if len(saved.files) != len(values):
                raise ValueError(f"{len(saved.files)} variables saved, the optimizer has {len(values)}")
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
        raise DamagedCheckpoint(f"'{path}' is damaged ({type(exc).__name__}: {first_line(exc)}).") from None
    for variable, value in zip(optimizer.variables, values):
        if tuple(value.shape) != tuple(variable.shape):
            raise DamagedCheckpoint(f"'{path}' is damaged: a variable of shape {value.shape} for one of shape {tuple(variable.shape)}.")
    for variable, value in zip(optimizer.variables, values):
        variable.assign(value)


def resume_from_checkpoint(run: Run, core: Any, optimizer: Any, warn: Callable[[str], None]) -> dict[str, Any] | None:
    """Restore the newest intact checkpoint of ``run`` into ``core`` and ``optimizer``; return its state.

    ``None`` when the run has no checkpoint yet. Each damaged file is named through ``warn`` and the
    checkpoint before it is tried; when none is intact, a one-line :class:`DamagedCheckpoint` names them.
    """
    damaged: list[str] = []

    def note(message: str) -> None:
        damaged.append(message)
        warn(message)

    for state in _candidates(run, note):
        try:
            restore_checkpoint(state, core, optimizer)
        except DamagedCheckpoint as exc:
            note(str(exc))
            continue
        if damaged:
            warn(f"Falling back to the checkpoint of epoch {state['epoch']}.")
        return state
    if damaged:
        raise DamagedCheckpoint(f"No intact checkpoint in '{run.checkpoint_dir}': {damaged[0]} "
                                "Start a new run, or delete the checkpoint folder to retrain this one from epoch 1.")
    return None


def save_best_weights(run: Run, core: Any) -> None:
    """The best weights so far, atomically, with their SHA-256 recorded in the run."""
    with atomic_path(run.weights_file) as tmp:
        core.save_weights(tmp)
    record_artefact(run, run.weights_file)
