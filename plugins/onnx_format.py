"""ONNX: the ``onnx`` exporter (Keras 3's own ``model.export(format="onnx")``, on the torch backend) and runtime (onnxruntime).

Keras exports ONNX through ``torch.onnx`` on torch and through ``tf2onnx`` on TensorFlow; torch is
emokit's default backend and needs nothing more, so the export runs there (as LiteRT's runs on
TensorFlow). The file takes any batch size.

Keras's batch norm is backend-neutral arithmetic (subtract, divide, multiply, add), which reaches
ONNX as four ops per layer that onnxruntime cannot fold into the convolution before it. The model
is exported with a batch norm whose inference step is ``torch.nn.functional.batch_norm`` (one ONNX
``BatchNormalization``, folded into the convolution by onnxruntime): the same variables and the same
function, so the same weights file loads, and the parity check confirms the answers. One
mini_xception face: 0.45 instead of 0.82 ms (median, one thread).
"""

from __future__ import annotations

import importlib.util
import json
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from emokit.errors import EmokitError
from .file_formats import ONNX_INSTALL, ONNX_SUFFIX
from emokit.inference.preprocessing import Preprocessing, read_preprocessing
from emokit.inference.runtime import BaseRuntime, ModelSource
from emokit.registry import Registry
from emokit.runs import Run
from emokit.spec import BatchNorm, ModelSpec, Node

FORMAT = "onnx"
SUFFIX, INSTALL = ONNX_SUFFIX, ONNX_INSTALL
#: Metadata keys of an emokit ONNX export: the model spec and the preprocessing section, as JSON.
SPEC_KEY, PREPROCESSING_KEY = "emokit.spec", "emokit.preprocessing"
#: The backend Keras exports ONNX on without extra packages (TensorFlow's path needs tf2onnx).
EXPORT_BACKEND = "torch"


def export_onnx(run: Run, registry: Registry, target: Path) -> Path:
    """Write the run's model to ``target`` as ONNX, on the torch backend; the batch axis stays dynamic."""
    from emokit.artefacts import load_weights  # noqa: PLC0415
    from emokit.backend import load_keras  # noqa: PLC0415 - Keras only once the backend is chosen
    from emokit.builder import build_model  # noqa: PLC0415

    if importlib.util.find_spec("onnx") is None:  # torch.onnx writes the file through it
        raise EmokitError(f"Exporting ONNX needs the 'onnx' package, which is not installed. Run: {INSTALL}")
    _, keras = load_keras(registry, EXPORT_BACKEND)
    spec = run.spec()
    model = build_model(spec, keras, layer_for=_export_layer)
    load_weights(model, run.weights_file)
    # An explicit signature: Keras otherwise takes it from a first call the model has not had yet.
    signature = [keras.InputSpec(shape=(None, *spec.input_shape), dtype="float32")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's TracerWarnings: the graph is checked by the parity test instead
        model.export(str(target), format="onnx", verbose=False, input_signature=signature)
    _describe(Path(target), spec.to_json(), json.dumps(read_preprocessing(run).to_dict()))
    return Path(target)


def _describe(path: Path, spec: str, preprocessing: str) -> None:
    """Store the run's spec and preprocessing in the file's metadata, so the file alone can be served."""
    import onnx  # noqa: PLC0415

    model = onnx.load(str(path))
    onnx.helper.set_model_props(model, {SPEC_KEY: spec, PREPROCESSING_KEY: preprocessing})
    onnx.save(model, str(path))


def _described_source(session: Any, path: Path) -> ModelSource:
    """A bare file's classes, input and preprocessing, from the metadata :func:`_describe` stored."""
    found = session.get_modelmeta().custom_metadata_map
    if SPEC_KEY not in found or PREPROCESSING_KEY not in found:
        raise EmokitError(f"'{path}' carries no emokit metadata (not written by `emokit export --format onnx`); "
                          "keep it in its run folder.")
    return ModelSource(ModelSpec.from_json(found[SPEC_KEY]),
                       Preprocessing.from_dict(json.loads(found[PREPROCESSING_KEY]), str(path)), None, path)


def _export_layer(keras: Any, node: Node, layer_kwargs: Mapping[str, Any]) -> Any:
    """For a :class:`~emokit.spec.BatchNorm` node, Keras's layer with a one-op inference step; ``None`` otherwise."""
    if not isinstance(node, BatchNorm):
        return None

    # Named like Keras's class on purpose: Keras files a layer's weights under its class name.
    class BatchNormalization(keras.layers.BatchNormalization):
        def call(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
            if training or mask is not None or len(inputs.shape) != 4 or self.axis not in (-1, 3) \
                    or not (self.center and self.scale):
                return super().call(inputs, training=training, mask=mask)
            import torch  # noqa: PLC0415 - the export backend is torch

            nchw = inputs.permute(0, 3, 1, 2)  # Keras keeps images channels-last; torch's kernel takes NCHW
            y = torch.nn.functional.batch_norm(nchw, self.moving_mean.value, self.moving_variance.value,
                                               self.gamma.value, self.beta.value, training=False, eps=self.epsilon)
            return y.permute(0, 2, 3, 1)

    return BatchNormalization(momentum=node.momentum, **layer_kwargs)


class OnnxRuntime(BaseRuntime):
    """A run's ONNX export in an onnxruntime session on ``threads`` threads (CPU).

    onnxruntime's ``InferenceSession.run`` is safe to call from several threads at once. One thread
    per call by default: a frame's one to four 48x48 faces are too small for intra-op parallelism
    to pay, and on a busy CPU the threads' synchronisation costs more than it saves.
    """

    def __init__(self, source: ModelSource, registry: Registry, threads: int = 1) -> None:
        from emokit.artefacts import first_line  # noqa: PLC0415
        from emokit.inference.export_records import checked_export, export_file  # noqa: PLC0415

        path = export_file(source, SUFFIX)
        if source.run is not None:
            checked_export(source.run, FORMAT, path, "ONNX")
        self.label = "onnx"
        try:
            import onnxruntime  # noqa: PLC0415 - only when this runtime is opened
        except ImportError:
            raise EmokitError(f"Runtime 'onnx' needs the 'onnxruntime' package, which is not installed. Run: {INSTALL}") from None
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: no start-up chatter on stderr
        try:
            self._session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # noqa: BLE001 - onnxruntime raises its own types for a file that is no model
            raise EmokitError(f"'{path}' is not an ONNX model ({first_line(exc)}); export it again.") from None
        self._input = self._session.get_inputs()[0].name
        self.source = source if source.spec is not None else _described_source(self._session, path)

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Probabilities for uint8 model-input images (N, H, W, C)."""
        from emokit.inference.keras_model import in_chunks  # noqa: PLC0415

        return in_chunks(images, len(self.class_names), lambda batch: self._session.run(
            None, {self._input: np.ascontiguousarray(batch, dtype=np.float32)})[0])
