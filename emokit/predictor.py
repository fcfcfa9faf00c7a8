"""Load a run's model once and classify batches of preprocessed faces.

Training, evaluation, ``emokit predict``, the demo and the benchmarks classify through a
:class:`FaceClassifier`: :class:`Predictor` calls the Keras model directly (``model.predict`` adds
tens of milliseconds of per-call overhead that a single webcam frame cannot afford; on torch,
small batches run through traced graphs), and :class:`emokit.export.LitePredictor` runs the
run's LiteRT export.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from emokit.artefacts import load_weights, verify_artefact
from emokit.backend import load_keras
from emokit.builder import build_model
from emokit.errors import EmokitError
from emokit.records import Box, FaceDetector
from emokit.registry import Registry
from emokit.runs import Run
from emokit.spec import ModelSpec


@dataclass(frozen=True)
class FacePrediction:
    """One face: where it is, the probability of each class, and the top class."""

    box: Box
    probabilities: dict[str, float]

    @property
    def emotion(self) -> str:
        return max(self.probabilities, key=self.probabilities.get)


def in_chunks(images: np.ndarray, classes: int, classify: Callable[[np.ndarray], np.ndarray],
              size: int = 256) -> np.ndarray:
    """``classify`` over ``images`` in chunks of at most ``size`` (bounded memory for a whole split),
    as one float32 array; no images give an empty (0, classes) array."""
    if len(images) == 0:
        return np.zeros((0, classes), dtype=np.float32)
    return np.concatenate([classify(images[i:i + size]) for i in range(0, len(images), size)]).astype(np.float32)


def probabilities(model: Any, keras: Any, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Class probabilities for uint8 images (N, H, W, C), computed by direct model calls in chunks."""
    return in_chunks(images, model.output_shape[-1], lambda batch: keras.ops.convert_to_numpy(
        _call(model, keras, np.asarray(batch, dtype=np.float32))), batch_size)


def _call(model: Any, keras: Any, batch: np.ndarray) -> Any:
    if keras.backend.backend() == "torch":
        import torch  # noqa: PLC0415 - only on the torch backend

        with torch.no_grad():  # no autograd graph at inference: faster and less memory
            return model(batch, training=False)
    # JAX and TensorFlow run a direct call eagerly, op by op; predict_on_batch uses the compiled
    # predict function (jit / tf.function) without model.predict's per-call data-adapter overhead.
    return model.predict_on_batch(batch)


class TracedTorchCall:
    """Small batches of a Keras-on-torch model through ``torch.jit.trace``: the same arithmetic
    without Keras' per-layer Python (one mini_xception face: about 3 ms instead of 12.5 ms).

    One trace per batch size up to ``max_batch`` (a frame's faces); each trace is checked against
    the eager call on the batch that made it, and a model that fails to trace or disagrees falls
    back to eager calls for good. Larger batches (evaluation) run eagerly: there the per-layer
    overhead is amortised.
    """

    def __init__(self, model: Any, max_batch: int = 8) -> None:
        self.model = model
        self.max_batch = max_batch
        self._traced: dict[tuple[int, ...], Any] = {}
        self._lock = threading.Lock()  # one trace at a time (demo sessions call concurrently)
        self.enabled = True

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        import torch  # noqa: PLC0415 - only on the torch backend

        with torch.no_grad():  # no autograd graph at inference: faster and less memory
            tensor = torch.from_numpy(np.ascontiguousarray(batch))
            if not self.enabled or len(batch) > self.max_batch:
                return self.model(tensor, training=False).cpu().numpy()
            traced = self._traced.get(batch.shape)
            if traced is not None:
                return traced(tensor).cpu().numpy()
            with self._lock:
                eager = self.model(tensor, training=False).cpu().numpy()
                if batch.shape not in self._traced and self.enabled:
                    self._trace(tensor, eager)
            return eager

    def _trace(self, tensor: Any, expected: np.ndarray) -> None:
        import warnings  # noqa: PLC0415

        import torch  # noqa: PLC0415

        model = self.model

        class Inference(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.model = model

            def forward(self, x: Any) -> Any:
                return self.model(x, training=False)

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # TracerWarnings: shapes are fixed per trace, by design
                traced = torch.jit.trace(Inference(), tensor, check_trace=False)
            ok = np.allclose(traced(tensor).cpu().numpy(), expected, atol=1e-5)
        except Exception:  # noqa: BLE001 - any tracing failure means: stay eager
            ok = False
        if ok:
            self._traced[tuple(tensor.shape)] = traced
        else:
            self.enabled = False


class FaceClassifier:
    """What every way of running a run's model offers: its classes and input, batch probabilities, faces in a photo.

    Subclasses set ``run``, ``spec`` and ``label`` (what runs the model, e.g. ``tensorflow`` or
    ``litert``) and implement :meth:`probabilities`.
    """

    run: Run
    spec: ModelSpec
    label: str

    @property
    def runtime(self) -> str:
        """What runs the model, for people: ``keras+torch``, ``litert``, ``litert-int8``."""
        return self.label

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.spec.class_names

    @property
    def input_size(self) -> tuple[int, int]:
        return self.spec.input_shape[0], self.spec.input_shape[1]

    @property
    def channels(self) -> int:
        return self.spec.input_shape[2]

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Probabilities for uint8 model-input images (N, H, W, C)."""
        raise NotImplementedError

    def predict_faces(self, image: np.ndarray, detector: FaceDetector) -> list[FacePrediction]:
        """Find faces in a decoded photo and classify each, through the shared preprocessing."""
        from emokit.faces import faces_to_batch  # noqa: PLC0415 - keeps import time low for other commands

        boxes, batch = faces_to_batch(image, detector, self.input_size, self.channels)
        probs = self.probabilities(batch)
        return [
            FacePrediction(box, {name: float(p) for name, p in zip(self.class_names, row)})
            for box, row in zip(boxes, probs)
        ]


class Predictor(FaceClassifier):
    """A run's Keras model, loaded once on the chosen backend."""

    def __init__(self, run: Run, registry: Registry, backend: str | None = None) -> None:
        self.run = run
        self.spec = run.spec()
        if not run.weights_file.exists():
            raise EmokitError(f"Run '{run.path}' has no trained weights yet (model.weights.h5); train or resume it first.")
        verify_artefact(run, run.weights_file)  # before Keras loads: a swapped file needs no model to refuse
        self.backend, self.keras = load_keras(registry, backend)
        self.model = build_model(self.spec, self.keras)
        load_weights(self.model, run.weights_file)
        self.label = self.backend.name
        self._torch_call = TracedTorchCall(self.model) if self.backend.name == "torch" else None

    @property
    def runtime(self) -> str:
        return f"keras+{self.label}"

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Probabilities for uint8 model-input images (N, H, W, C)."""
        if self._torch_call is not None and 0 < len(images) <= self._torch_call.max_batch:
            return self._torch_call(np.asarray(images, dtype=np.float32)).astype(np.float32)
        return probabilities(self.model, self.keras, images)


#: How a run's model can be run: Keras on a backend, its LiteRT export (``emokit export``), or
#: ``auto``: the export when the run has an up-to-date one, no backend was asked for and a LiteRT
#: interpreter is installed; else Keras.
RUNTIMES = ("keras", "litert", "auto")


def open_predictor(run: Run, registry: Registry, backend: str | None = None, runtime: str = "keras") -> FaceClassifier:
    """Load ``run``'s model with ``runtime`` (see :data:`RUNTIMES`); ``backend`` applies to Keras."""
    from emokit.export import LitePredictor, can_run_exports, current_export  # noqa: PLC0415

    check_runtime(runtime)
    if runtime == "litert":
        return LitePredictor(run)
    record = current_export(run) if runtime == "auto" and backend is None and can_run_exports() else None
    if record is not None:
        return LitePredictor(run, record)
    return Predictor(run, registry, backend)


def check_runtime(runtime: str) -> None:
    """Raise a one-line error for a runtime name that is not one of :data:`RUNTIMES`."""
    if runtime not in RUNTIMES:
        raise EmokitError(f"Unknown runtime '{runtime}'. Available: {', '.join(RUNTIMES)}.")

