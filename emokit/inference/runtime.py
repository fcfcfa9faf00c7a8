"""What every way of running a trained model offers: the :class:`Runtime` protocol.

A runtime plugin (hook ``emokit_runtimes``) opens a :class:`ModelSource` and returns a Runtime;
everything above it (the frame pipeline, ``emokit predict``/``evaluate``, the demo, the Python
API, the benchmarks) classifies through this protocol and never knows which library runs the model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

if TYPE_CHECKING:
    from emokit.inference.preprocessing import Preprocessing
    from emokit.records import ModelRecord
    from emokit.runs import Run
    from emokit.spec import ModelSpec


@dataclass(frozen=True)
class ModelSource:
    """A trained model to open: a run folder, an exported file (with the run it came from, if known), or a
    model a package ships (``model``, opened by its short name).

    ``spec`` gives the classes and input shape; ``preprocessing`` how a face becomes model input. Both
    are ``None`` only for a bare exported file (no run folder beside it, no sidecar description: see
    :mod:`emokit.inference.bundled`): a runtime that opens such files reads them from the file itself
    (the ONNX export carries them as metadata) or refuses it.
    """

    spec: ModelSpec | None
    preprocessing: Preprocessing | None
    #: The run folder, or ``None`` for a bare exported file.
    run: Run | None = None
    #: An exported model file (``model.onnx``), or ``None`` for the run's Keras weights.
    file: Path | None = None
    #: What the file's sidecar says about where it came from (run, data, int8 weights, parity); empty if none.
    about: dict[str, Any] = field(default_factory=dict)
    #: The bundled model this is (its name, data and accuracy are what the UI shows), or ``None``.
    model: ModelRecord | None = None


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


class BaseRuntime:
    """Shared conveniences for runtime classes: set ``label``, ``source`` (and so ``spec`` and
    ``preprocessing``) and implement ``probabilities``; the rest follows from the spec."""

    label: str
    source: ModelSource

    @property
    def spec(self) -> ModelSpec:
        return self.source.spec

    @property
    def preprocessing(self) -> Preprocessing:
        return self.source.preprocessing

    @property
    def run(self) -> Run | None:
        """The run the model came from (``None`` for a bare exported file)."""
        return self.source.run

    @property
    def bundled(self) -> ModelRecord | None:
        """The bundled model this is (``None`` for a run or an exported file)."""
        return self.source.model

    @property
    def runtime(self) -> str:
        """The same as ``label`` (the name the demo and ``emokit predict`` showed before runtimes were plugins)."""
        return self.label

    @property
    def class_names(self) -> tuple[str, ...]:
        return tuple(self.spec.class_names)

    @property
    def input_size(self) -> tuple[int, int]:
        return self.preprocessing.input_size

    @property
    def channels(self) -> int:
        return self.preprocessing.channels

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Probabilities for uint8 model-input images (N, H, W, C): float32 (N, classes)."""
        raise NotImplementedError

