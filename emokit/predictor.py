"""Load a run's model once and classify batches of preprocessed faces.

Training, evaluation, ``emokit predict``, the demo and the benchmarks all classify through
:meth:`Predictor.probabilities`, which calls the model directly: ``model.predict`` adds tens of
milliseconds of per-call overhead that a single webcam frame cannot afford.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

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


def probabilities(model: Any, keras: Any, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Class probabilities for uint8 images (N, H, W, C), computed by direct model calls in chunks."""
    if len(images) == 0:
        return np.zeros((0, model.output_shape[-1]), dtype=np.float32)
    chunks = []
    for start in range(0, len(images), batch_size):
        batch = np.asarray(images[start:start + batch_size], dtype=np.float32)
        chunks.append(keras.ops.convert_to_numpy(_call(model, keras, batch)))
    return np.concatenate(chunks).astype(np.float32)


def _call(model: Any, keras: Any, batch: np.ndarray) -> Any:
    if keras.backend.backend() == "torch":
        import torch  # noqa: PLC0415 - only on the torch backend

        with torch.no_grad():  # no autograd graph at inference: faster and less memory
            return model(batch, training=False)
    # JAX and TensorFlow run a direct call eagerly, op by op; predict_on_batch uses the compiled
    # predict function (jit / tf.function) without model.predict's per-call data-adapter overhead.
    return model.predict_on_batch(batch)


class FaceClassifier:
    """What every way of running a run's model offers: its classes and input, batch probabilities, faces in a photo.

    Subclasses set ``run``, ``spec`` and ``label`` (what runs the model, e.g. ``tensorflow`` or
    ``litert``) and implement :meth:`probabilities`.
    """

    run: Run
    spec: ModelSpec
    label: str

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
        self.backend, self.keras = load_keras(registry, backend)
        if not run.weights_file.exists():
            raise EmokitError(f"Run '{run.path}' has no trained weights yet (model.weights.h5); train or resume it first.")
        self.model = build_model(self.spec, self.keras)
        self.model.load_weights(run.weights_file)
        self.label = self.backend.name

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Probabilities for uint8 model-input images (N, H, W, C)."""
        return probabilities(self.model, self.keras, images)


#: How a run's model can be run: Keras on a backend, its LiteRT export (``emokit export``), or
#: ``auto``: the export when the run has an up-to-date one, else Keras.
RUNTIMES = ("keras", "litert", "auto")


def open_predictor(run: Run, registry: Registry, backend: str | None = None, runtime: str = "keras") -> FaceClassifier:
    """Load ``run``'s model with ``runtime`` (see :data:`RUNTIMES`); ``backend`` applies to Keras."""
    from emokit.export import LitePredictor, has_current_export  # noqa: PLC0415

    if runtime not in RUNTIMES:
        raise EmokitError(f"Unknown runtime '{runtime}'. Available: {', '.join(RUNTIMES)}.")
    if runtime == "litert" or (runtime == "auto" and has_current_export(run)):
        return LitePredictor(run)
    return Predictor(run, registry, backend)

