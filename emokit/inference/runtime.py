"""What every way of running a trained model offers: the :class:`Runtime` protocol.

A runtime plugin (hook ``emokit_runtimes``) opens a :class:`ModelSource` and returns a Runtime;
everything above it (the frame pipeline, ``emokit predict``/``evaluate``, the demo, the Python
API, the benchmarks) classifies through this protocol and never knows which library runs the model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from emokit.inference.preprocessing import Preprocessing
    from emokit.runs import Run
    from emokit.spec import ModelSpec


@dataclass(frozen=True)
class ModelSource:
    """A trained model to open: a run folder, or an exported file (with the run it came from, if known).

    ``spec`` gives the classes and input shape; ``preprocessing`` how a face becomes model input.
    """

    spec: ModelSpec
    preprocessing: Preprocessing
    #: The run folder, or ``None`` for a bare exported file.
    run: Run | None = None
    #: An exported model file (``model.onnx``), or ``None`` for the run's Keras weights.
    file: Path | None = None


@runtime_checkable
class Runtime(Protocol):
    """A loaded model that classifies batches of preprocessed faces.

    ``probabilities`` takes uint8 model-input images (N, H, W, C), as :mod:`emokit.preprocess`
    makes them, and returns float32 (N, classes) rows that sum to 1. It is safe to call from
    several threads (the demo serves sessions concurrently).
    """

    #: What runs the model, for people and result labels: ``keras+torch``, ``litert``, ``onnx``.
    label: str
    spec: ModelSpec
    preprocessing: Preprocessing

    @property
    def class_names(self) -> tuple[str, ...]: ...

    def probabilities(self, images: np.ndarray) -> np.ndarray: ...
