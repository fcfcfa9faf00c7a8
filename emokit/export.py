"""Export a run's model to LiteRT (TensorFlow Lite) and run the export with a lean interpreter.

A LiteRT model answers one 48x48 face in a fraction of a millisecond, where a Keras call costs
milliseconds of per-layer Python overhead. Exporting needs TensorFlow (Keras converts the model
through it); running the export needs only ``ai-edge-litert`` (about 20 MB), or TensorFlow's
bundled interpreter when that is what is installed.

An export remembers the SHA-256 of the weights it came from, so a run that trained further
after exporting is never served by a stale model; the export's own SHA-256 is recorded with the
run's other artefacts (:mod:`emokit.artefacts`), so a swapped ``model.tflite`` is never served.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from typing import Any

import numpy as np

from emokit.artefacts import file_digest, first_line, load_weights, record_artefact, verify_artefact
from emokit.atomic import atomic_path, write_json
from emokit.errors import EmokitError
from emokit.predictor import FaceClassifier, in_chunks
from emokit.registry import Registry
from emokit.runs import Run

LITERT_FILE = "model.tflite"
EXPORT_INFO_FILE = "export.json"
#: Faces per interpreter call when a large batch (an evaluation split) is classified.
CHUNK = 256


def export_info(run: Run) -> dict[str, Any]:
    """The run's export record (empty when it has none)."""
    return run.read_json(run.path / EXPORT_INFO_FILE)


def current_export(run: Run) -> dict[str, Any] | None:
    """The run's export record if its LiteRT export was made from its current weights, else ``None``."""
    info = export_info(run)
    current = bool(info) and (run.path / LITERT_FILE).exists() and run.weights_file.exists() and info.get("weights_sha256") == file_digest(run.weights_file)
    return info if current else None


def has_current_export(run: Run) -> bool:
    """Whether the run has a LiteRT export made from its current weights."""
    return current_export(run) is not None


def export_litert(run: Run, registry: Registry, quantize: bool = False) -> Path:
    """Write ``RUN/model.tflite`` (and ``export.json``) from the run's weights; returns the model's path.

    ``quantize`` stores the weights as int8 (dynamic-range quantization): a 4x smaller file and
    faster dense layers, at a small accuracy cost (``emokit evaluate --runtime litert`` measures it).
    Runs in a process whose Keras backend is, or can still become, TensorFlow.
    """
    from emokit.backend import load_keras  # noqa: PLC0415 - Keras only once the backend is chosen
    from emokit.builder import build_model  # noqa: PLC0415

    if not run.weights_file.exists():
        raise EmokitError(f"Run '{run.path}' has no trained weights yet (model.weights.h5); train or resume it first.")
    _, keras = load_keras(registry, "tensorflow")
    digest = file_digest(run.weights_file)  # before loading: a run still training may replace the weights meanwhile
    verify_artefact(run, run.weights_file)
    model = build_model(run.spec(), keras)
    load_weights(model, run.weights_file)
    options: dict[str, Any] = {}
    if quantize:
        import tensorflow as tf  # noqa: PLC0415 - present: the backend above is TensorFlow

        options["optimizations"] = [tf.lite.Optimize.DEFAULT]
    target = run.path / LITERT_FILE
    # The record goes first and comes back last, so a crash in between leaves no record vouching
    # for a model it does not describe.
    (run.path / EXPORT_INFO_FILE).unlink(missing_ok=True)
    with atomic_path(target) as tmp:
        model.export(str(tmp), format="litert", verbose=False, **options)
    if file_digest(run.weights_file) != digest:
        raise EmokitError(f"The weights of run '{run.path}' changed while exporting (is it still training?); export again when it stops.")
    record_artefact(run, target)  # before the export record: no record vouches for a file not yet recorded
    write_json(run.path / EXPORT_INFO_FILE, {
        "format": "litert", "file": LITERT_FILE, "quantized": quantize, "weights_sha256": digest,
    })
    return target


def can_run_exports() -> bool:
    """Whether a LiteRT interpreter (ai-edge-litert, or TensorFlow's) is installed."""
    return any(importlib.util.find_spec(name) is not None for name in ("ai_edge_litert", "tensorflow"))


def _interpreter_class() -> Any:
    try:
        from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415 - the lean runtime

        return Interpreter
    except ImportError:
        pass
    try:
        import tensorflow as tf  # noqa: PLC0415

        return tf.lite.Interpreter
    except (ImportError, AttributeError):
        raise EmokitError("Running an exported model needs LiteRT: pip install ai-edge-litert") from None


class LitePredictor(FaceClassifier):
    """A run's LiteRT export, run by the LiteRT interpreter on ``threads`` threads.

    One interpreter serves all callers; a lock keeps its calls one at a time (it is not
    thread-safe), which costs nothing at a fraction of a millisecond per call.
    """

    def __init__(self, run: Run, record: dict[str, Any] | None = None, threads: int = 1) -> None:
        """``record``: the run's export record as :func:`current_export` just returned it (saves hashing
        the weights a second time); without it the export is checked here."""
        self.run = run
        self.spec = run.spec()
        path = run.path / LITERT_FILE
        if not path.exists():
            raise EmokitError(f"Run '{run.path}' has no LiteRT export; run `emokit export {run.path}` first.")
        record = record or current_export(run)
        if record is None:
            raise EmokitError(f"The LiteRT export of run '{run.path}' was not made from its current weights; run `emokit export {run.path}` again.")
        verify_artefact(run, path)
        self.label = "litert-int8" if record.get("quantized") else "litert"
        try:
            self._interpreter = _interpreter_class()(model_path=str(path), num_threads=threads)
        except ValueError as exc:  # LiteRT's error for a file that is not a model; ours names the file in one line
            raise EmokitError(f"'{path}' is not a LiteRT model ({first_line(exc)}); run `emokit export {run.path}` again.") from None
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        self._batch = 0
        self._lock = threading.Lock()

    def _run(self, batch: np.ndarray) -> np.ndarray:
        if len(batch) != self._batch:  # the export takes any batch size; size the tensors for this one
            self._interpreter.resize_tensor_input(self._input["index"], [len(batch), *self._input["shape"][1:]])
            self._interpreter.allocate_tensors()
            self._batch = len(batch)
        self._interpreter.set_tensor(self._input["index"], batch)
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output["index"]).copy()

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Probabilities for uint8 model-input images (N, H, W, C)."""
        with self._lock:
            return in_chunks(images, len(self.class_names),
                             lambda batch: self._run(np.ascontiguousarray(batch, dtype=self._input["dtype"])), CHUNK)
