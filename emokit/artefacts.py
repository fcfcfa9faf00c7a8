"""The SHA-256 of every file a run serves from (weights, exports), recorded when written, checked when loaded.

A swapped, truncated or half-copied ``model.weights.h5`` or ``model.tflite`` otherwise loads without
a word (or fails deep inside Keras or LiteRT); with a record, loading it is a one-line error naming
the file. The record is ``RUN/artefacts.json``: ``{"model.weights.h5": "<sha256>", ...}``, keyed by
the file's path relative to the run, rewritten atomically on every change.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from emokit.atomic import write_json
from emokit.errors import EmokitError
from emokit.runs import Run

ARTEFACTS_FILE = "artefacts.json"


def file_digest(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks (weights files reach tens of MB)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _key(run: Run, path: Path) -> str:
    path = Path(path)
    try:
        return path.resolve().relative_to(run.path.resolve()).as_posix()
    except ValueError:
        raise EmokitError(f"'{path}' is not inside run '{run.path}'; only a run's own files are recorded.") from None


def recorded_digests(run: Run) -> dict[str, str]:
    """Every artefact digest the run has recorded (empty for runs trained before digests were recorded)."""
    return run.read_json(run.path / ARTEFACTS_FILE)


def record_artefact(run: Run, path: Path) -> None:
    """Record the SHA-256 of ``path`` (a file inside ``run``) as the one it must have when loaded."""
    digests = recorded_digests(run)
    digests[_key(run, path)] = file_digest(path)
    write_json(run.path / ARTEFACTS_FILE, digests)


def verify_artefact(run: Run, path: Path) -> None:
    """Raise a one-line :class:`EmokitError` naming ``path`` when its SHA-256 differs from the recorded one.

    A file with no record is accepted: runs trained before digests were recorded have none (for
    their LiteRT export, the export record's ``weights_sha256`` still rules out a stale export).
    """
    key = _key(run, path)
    expected = recorded_digests(run).get(key)
    if expected is None:
        return
    if not Path(path).is_file():
        raise EmokitError(f"'{path}' is missing; run '{run.name}' recorded it. Restore it, or train/export again.")
    actual = file_digest(path)
    if actual != expected:
        # A run still training rewrites its weights and then the record: look once more before blaming the file.
        expected = recorded_digests(run).get(key)
        if expected is not None and expected != actual and file_digest(path) != expected:
            raise EmokitError(
                f"'{path}' is not the file run '{run.name}' recorded (SHA-256 {actual[:12]}… instead of "
                f"{expected[:12]}…): it was replaced or damaged. Restore it, or train/export again.")


def first_line(exc: BaseException, limit: int = 160) -> str:
    """The first line of an exception's message, shortened: enough to tell causes apart in a one-line error."""
    text = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return text if len(text) <= limit else text[:limit - 1] + "…"


def load_weights(model: Any, path: Path) -> None:
    """``model.load_weights(path)``; a garbage, truncated or wrong-shape file is a one-line error naming it.

    Keras raises whatever h5py or its layers raise (OSError, ValueError, KeyError, ...) with a deep
    traceback; any failure here means the file does not hold this model's weights.
    """
    try:
        model.load_weights(path)
    except Exception as exc:  # noqa: BLE001 - every cause means the same to the user: this file is unusable
        raise EmokitError(f"'{path}' cannot be loaded as this model's weights ({type(exc).__name__}: {first_line(exc)}): "
                          "the file is damaged, truncated or from another model.") from None
