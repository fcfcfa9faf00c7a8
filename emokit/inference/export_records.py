"""A run's export record, ``RUN/export.json``: for each format, the file, the weights it came from, its parity figures.

``{"exports": {"onnx": {"file": "model.onnx", "weights_sha256": ..., "parity": {...}}, "litert": {...}}}``.
An export is served only while the run's weights are the ones it was made from, so a run that trained
further after exporting is never answered by a stale model. Records written before exports were
per-format (one LiteRT export: ``{"format": "litert", "file": ..., "weights_sha256": ...}``) are read as
that one format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from emokit.artefacts import file_digest, verify_artefact
from emokit.atomic import write_json
from emokit.errors import EmokitError
from emokit.inference.runtime import ModelSource
from emokit.runs import Run

EXPORT_INFO_FILE = "export.json"
#: The format and file of records written before exports were per-format.
LEGACY_FORMAT, LEGACY_FILE = "litert", "model.tflite"


def export_records(run: Run) -> dict[str, dict[str, Any]]:
    """format -> record for every export the run has recorded (empty when it has none)."""
    info = run.read_json(run.path / EXPORT_INFO_FILE)
    if "exports" in info:
        return {name: dict(record) for name, record in info["exports"].items()}
    if info:
        return {info.get("format", LEGACY_FORMAT): {"file": LEGACY_FILE, **info}}
    return {}


def write_export_record(run: Run, format: str, record: dict[str, Any] | None) -> None:
    """Set (or with ``None`` remove) one format's record, keeping the others; written atomically."""
    records = export_records(run)
    if record is None:
        records.pop(format, None)
    else:
        records[format] = record
    write_json(run.path / EXPORT_INFO_FILE, {"exports": records})


def current_exports(run: Run) -> dict[str, dict[str, Any]]:
    """The run's exports whose file exists and was made from the run's current weights."""
    records = export_records(run)
    if not records or not run.weights_file.exists():
        return {}
    weights = file_digest(run.weights_file)
    return {name: record for name, record in records.items()
            if record.get("weights_sha256") == weights and (run.path / record.get("file", "")).is_file()}


def checked_export(run: Run, format: str, file: Path, title: str) -> dict[str, Any]:
    """The record of ``run``'s ``format`` export at ``file``, after refusing a missing, stale or swapped one.

    ``title`` names the format for people (``LiteRT``). Errors are one line naming the file and the fix.
    """
    fix = f"`emokit export {run.path} --format {format}`"
    if not Path(file).is_file():
        raise EmokitError(f"Run '{run.path}' has no {title} export ({Path(file).name}); run {fix} first.")
    record = export_records(run).get(format)
    current = (record is not None and record.get("file") == Path(file).name and run.weights_file.exists()
               and record.get("weights_sha256") == file_digest(run.weights_file))
    if not current:
        raise EmokitError(f"The {title} export of run '{run.path}' was not made from its current weights; run {fix} again.")
    verify_artefact(run, Path(file))
    return record


def export_file(source: ModelSource, suffix: str) -> Path:
    """The exported file a runtime opens: the one given, else the run's ``model<suffix>``."""
    if source.file is not None:
        return Path(source.file)
    if source.run is None:
        raise EmokitError("A model source names a run folder, an exported file, or both; this one names neither.")
    return source.run.path / f"model{suffix}"

