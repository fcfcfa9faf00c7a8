"""Export a run's model through an exporter plugin, then check the file against the Keras model: ``emokit export``.

Every export is written atomically beside the weights (``RUN/model<suffix>``), its SHA-256 is
recorded with the run's artefacts, and ``RUN/export.json`` records the weights it came from and its
parity with the Keras model on real face images: the share of faces whose top class agrees and the
largest probability difference, measured through the runtime that will serve the file.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from emokit.artefacts import file_digest, record_artefact, verify_artefact
from emokit.atomic import atomic_path
from emokit.data import SYNTHETIC
from emokit.errors import EmokitError
from emokit.inference.export_records import write_export_record
from emokit.inference.runtimes import is_installed
from emokit.options import check_options
from emokit.records import DataRequest
from emokit.registry import Registry
from emokit.runs import Run

#: Faces the parity check compares the export with the Keras model on.
PARITY_FACES = 256
#: Below this top-1 agreement a float export is reported as a warning (quantized exports may differ more).
FLOAT_AGREEMENT = 0.99
QUANTIZED_AGREEMENT = 0.9
#: Batch-1 calls timed for the latency that ``--runtime auto`` prefers the fastest export by.
LATENCY_CALLS = 50


@dataclass(frozen=True)
class Parity:
    """How the exported file answers compared with the Keras model, on the same faces."""

    faces: int
    #: What the faces were (``synthetic``: emokit's drawn faces at the run's input size).
    images: str
    #: Share of faces whose top class is the same (1.0: all).
    top1_agreement: float
    #: The largest absolute difference of any class probability.
    max_abs_diff: float
    #: The minimum agreement this export is expected to reach.
    threshold: float

    @property
    def ok(self) -> bool:
        return self.top1_agreement >= self.threshold

    def to_dict(self) -> dict[str, Any]:
        return {"faces": self.faces, "images": self.images, "top1_agreement": self.top1_agreement,
                "max_abs_diff": self.max_abs_diff, "threshold": self.threshold}


@dataclass(frozen=True)
class ExportResult:
    """What ``export_run`` wrote and measured."""

    run: Run
    format: str
    path: Path
    runtime: str
    #: ``None`` when the runtime that serves the file is not installed here (then ``unchecked`` says why).
    parity: Parity | None
    #: Median milliseconds per batch-1 call through the runtime (``None`` when not checked).
    latency_ms: float | None
    options: dict[str, Any]
    unchecked: str = ""

    @property
    def size_mb(self) -> float:
        return self.path.stat().st_size / 1e6


def check_exporter(registry: Registry, format: str) -> None:
    """A one-line error for an unknown export format, listing the formats."""
    registry.get("exporter", format)


def export_run(run: Run, registry: Registry, format: str = "litert", **options: Any) -> ExportResult:
    """Write ``RUN/model<suffix>`` in ``format`` from the run's weights, record it, and check its parity.

    ``options`` are the exporter's (``quantize=True`` for LiteRT). The export record goes first and
    comes back last, so a crash in between leaves no record vouching for a file it does not describe.
    """
    exporter = registry.get("exporter", format)
    values = check_options(options, exporter.options, f"Exporter '{format}'")
    if not run.weights_file.exists():
        raise EmokitError(f"Run '{run.path}' has no trained weights yet (model.weights.h5); train or resume it first.")
    digest = file_digest(run.weights_file)  # before exporting: a run still training may replace the weights meanwhile
    verify_artefact(run, run.weights_file)
    target = run.path / f"model{exporter.suffix}"
    write_export_record(run, format, None)
    with atomic_path(target) as tmp:
        exporter.export(run, registry, tmp, **values)
    if file_digest(run.weights_file) != digest:
        raise EmokitError(f"The weights of run '{run.path}' changed while exporting (is it still training?); export again when it stops.")
    record_artefact(run, target)  # before the export record: no record vouches for a file not yet recorded
    record: dict[str, Any] = {"file": target.name, "weights_sha256": digest, "options": values}
    if "quantize" in values:
        record["quantized"] = bool(values["quantize"])  # the name records have had since the first LiteRT export
    record["runtime"] = exporter.runtime
    write_export_record(run, format, record)
    runtime = registry.get("runtime", exporter.runtime)
    if not is_installed(runtime):  # converting may need other libraries than running (LiteRT: TensorFlow vs ai-edge-litert)
        why = f"runtime '{runtime.name}' is not installed here ({runtime.install})"
        write_export_record(run, format, {**record, "parity": None, "unchecked": why})
        return ExportResult(run, format, target, exporter.runtime, None, None, values, why)
    parity, latency = check_parity(run, registry, exporter.runtime, quantized=bool(values.get("quantize")))
    write_export_record(run, format, {**record, "parity": parity.to_dict(), "latency_ms": latency})
    return ExportResult(run, format, target, exporter.runtime, parity, latency, values)


def parity_faces(run: Run, registry: Registry, count: int = PARITY_FACES) -> tuple[np.ndarray, str]:
    """Face images at the run's input size to compare answers on, and what they are.

    The test split of the registry's ``synthetic`` dataset: drawn faces of every expression, seeded,
    made in about a second at any input size, where loading the run's own dataset may take minutes
    (FER-2013 decodes 35,887 images).
    """
    height, width, channels = run.spec().input_shape
    dataset = registry.get("dataset", SYNTHETIC).load(DataRequest(source=None, image_size=(height, width), channels=channels))
    return dataset.splits["test"].images[:count], SYNTHETIC


def check_parity(run: Run, registry: Registry, runtime: str, quantized: bool = False) -> tuple[Parity, float]:
    """Compare the export served by ``runtime`` with the Keras model on :func:`parity_faces`; also time it.

    The Keras model runs on the backend already active in this process (the exporter's), so checking
    costs no second backend.
    """
    from emokit.inference.runtimes import open_runtime  # noqa: PLC0415

    images, what = parity_faces(run, registry)
    reference = open_runtime(run, registry, "keras", backend=_active_backend()).probabilities(images)
    exported = open_runtime(run, registry, runtime)
    answers = exported.probabilities(images)
    parity = Parity(
        faces=len(images), images=what,
        top1_agreement=float((answers.argmax(1) == reference.argmax(1)).mean()),
        max_abs_diff=float(np.abs(answers - reference).max()),
        threshold=QUANTIZED_AGREEMENT if quantized else FLOAT_AGREEMENT,
    )
    return parity, _latency_ms(exported, images[:1])


def _active_backend() -> str | None:
    keras = sys.modules.get("keras")
    return keras.backend.backend() if keras is not None else None


def _latency_ms(runtime: Any, face: np.ndarray) -> float:
    """Median milliseconds of a batch-1 call, after a warm-up call."""
    runtime.probabilities(face)
    times = []
    for _ in range(LATENCY_CALLS):
        start = time.perf_counter()
        runtime.probabilities(face)
        times.append(time.perf_counter() - start)
    return round(float(np.median(times)) * 1000, 4)
