"""The ``keras`` runtime: a run's weights in its Keras model, on any installed backend (traced on torch)."""

from __future__ import annotations

from typing import Any

import numpy as np

from emokit.errors import EmokitError
from emokit.inference.runtime import BaseRuntime, ModelSource
from emokit.registry import Registry


class KerasRuntime(BaseRuntime):
    """A run's Keras model, built from its spec and loaded with its weights once, on ``backend``.

    Safe to call from several threads: Keras models answer concurrent inference calls, and the
    torch trace cache takes a lock while it traces.
    """

    def __init__(self, source: ModelSource, registry: Registry, backend: str | None = None) -> None:
        from emokit.artefacts import load_weights, verify_artefact  # noqa: PLC0415
        from emokit.backend import load_keras  # noqa: PLC0415 - Keras only once the backend is chosen
        from emokit.builder import build_model  # noqa: PLC0415

        run = source.run
        if run is None:
            raise EmokitError("The keras runtime runs a run's weights; give it a run folder, not a bare exported file.")
        if not run.weights_file.exists():
            raise EmokitError(f"Run '{run.path}' has no trained weights yet (model.weights.h5); train or resume it first.")
        verify_artefact(run, run.weights_file)  # before Keras loads: a swapped file needs no model to refuse
        self.source = source
        self.backend, self.keras = load_keras(registry, backend)
        self.model = build_model(source.spec, self.keras)
        load_weights(self.model, run.weights_file)
        self.label = f"keras+{self.backend.name}"
        self._traced = _traced_call(self.backend.name, self.model)

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Probabilities for uint8 model-input images (N, H, W, C)."""
        from emokit.inference.keras_model import model_probabilities  # noqa: PLC0415

        if self._traced is not None and self._traced.handles(len(images)):
            return self._traced(np.asarray(images, dtype=np.float32)).astype(np.float32)
        return model_probabilities(self.model, self.keras, images)


def _traced_call(backend: str, model: Any) -> Any:
    """The backend's faster call for a frame's few faces, or ``None`` where plain calls are the fastest."""
    if backend == "torch":
        from .torch_inference import TracedTorchCall  # noqa: PLC0415

        return TracedTorchCall(model)
    return None
