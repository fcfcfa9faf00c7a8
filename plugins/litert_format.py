"""LiteRT (TensorFlow Lite): the ``litert`` exporter (Keras converts through TensorFlow) and runtime (``ai-edge-litert``).

A LiteRT model answers one 48x48 face in a fraction of a millisecond. Exporting needs TensorFlow;
running the export needs only ``ai-edge-litert`` (about 20 MB).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

from emokit.errors import EmokitError
from .file_formats import LITERT_INSTALL, LITERT_SUFFIX
from emokit.inference.runtime import BaseRuntime, ModelSource
from emokit.registry import Registry
from emokit.runs import Run

FORMAT = "litert"
SUFFIX, INSTALL = LITERT_SUFFIX, LITERT_INSTALL


def export_litert(run: Run, registry: Registry, target: Path, quantize: bool = False) -> Path:
    """Write the run's model to ``target`` as LiteRT, on the TensorFlow backend.

    ``quantize`` stores the weights as int8 (dynamic-range quantization): a 4x smaller file and
    faster dense layers, at a small accuracy cost (the parity check and ``emokit evaluate --runtime
    litert`` measure it). Runs in a process whose Keras backend is, or can still become, TensorFlow.
    """
    from emokit.artefacts import load_weights  # noqa: PLC0415
    from emokit.backend import load_keras  # noqa: PLC0415 - Keras only once the backend is chosen
    from emokit.builder import build_model  # noqa: PLC0415

    _, keras = load_keras(registry, "tensorflow")
    model = build_model(run.spec(), keras)
    load_weights(model, run.weights_file)
    options: dict[str, Any] = {}
    if quantize:
        import tensorflow as tf  # noqa: PLC0415 - present: the backend above is TensorFlow

        options["optimizations"] = [tf.lite.Optimize.DEFAULT]
    model.export(str(target), format="litert", verbose=False, **options)
    return Path(target)


class LiteRTRuntime(BaseRuntime):
    """A run's LiteRT export (or a bundled or described ``.tflite`` file), run by the LiteRT interpreter on
    ``threads`` threads. Nothing here imports Keras, TensorFlow or torch: the bundled model starts in
    well under a second.

    One interpreter serves all callers; a lock keeps its calls one at a time (it is not
    thread-safe), which costs nothing at a fraction of a millisecond per call.
    """

    def __init__(self, source: ModelSource, registry: Registry, threads: int = 1) -> None:
        from emokit.artefacts import first_line  # noqa: PLC0415
        from emokit.inference.export_records import checked_export, export_file  # noqa: PLC0415

        path = export_file(source, SUFFIX)
        if source.spec is None:
            raise EmokitError(f"'{path}' is not inside its run folder: a LiteRT export carries no classes or input "
                              f"size; keep it in its run folder, write its description beside it ({path.name}.json: "
                              "python -m emokit.inference.bundled RUN FILE), or export ONNX (which carries them).")
        self.source = source
        # A bundled or described file says in its sidecar whether its weights are int8; a run's export, in its record.
        quantized = bool(source.about.get("quantized"))
        if source.run is not None:
            quantized = bool(checked_export(source.run, FORMAT, path, "LiteRT").get("quantized"))
        self.label = "litert-int8" if quantized else "litert"
        try:
            from ai_edge_litert.interpreter import Interpreter  # noqa: PLC0415 - the lean runtime
        except ImportError:
            raise EmokitError(f"Runtime 'litert' needs the 'ai_edge_litert' package, which is not installed. Run: {INSTALL}") from None
        try:
            self._interpreter = Interpreter(model_path=str(path), num_threads=threads)
        except ValueError as exc:  # LiteRT's error for a file that is not a model; ours names the file in one line
            raise EmokitError(f"'{path}' is not a LiteRT model ({first_line(exc)}); export it again.") from None
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        self._batch = 0
        self._lock = threading.Lock()

    def _run(self, batch: np.ndarray) -> np.ndarray:
        if len(batch) != self._batch:  # the export takes any batch size; size the tensors for this one
            from emokit.inference.native_log import XNNPACK_INFO, without_native_lines  # noqa: PLC0415

            self._interpreter.resize_tensor_input(self._input["index"], [len(batch), *self._input["shape"][1:]])
            with without_native_lines(XNNPACK_INFO):  # LiteRT's C++ announces XNNPACK on stderr here
                self._interpreter.allocate_tensors()
            self._batch = len(batch)
        self._interpreter.set_tensor(self._input["index"], batch)
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output["index"]).copy()

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Probabilities for uint8 model-input images (N, H, W, C)."""
        from emokit.inference.keras_model import in_chunks  # noqa: PLC0415

        with self._lock:
            return in_chunks(images, len(self.class_names),
                             lambda batch: self._run(np.ascontiguousarray(batch, dtype=self._input["dtype"])))
