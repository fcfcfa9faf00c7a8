"""emokit's Python API: load a trained model once, then analyse photos or classify face crops.

    import emokit

    analyzer = emokit.load()                          # the bundled FER-2013 model; or "fer2013", a run, "latest", a file
    for face in analyzer.analyze("photo.jpg"):        # a path, or a uint8 RGB / gray numpy array
        print(face.box, face.score, face.emotion, face.probabilities)
    [face.to_dict() for face in analyzer.analyze(image)]  # [{"box": [x, y, w, h], "emotions": {...}, ...}]
    analyzer.classify(crops)                          # (N, classes) probabilities for face crops of any size

Faces go through the same frame pipeline as ``emokit predict`` and the demo
(:class:`emokit.inference.frames.FramePipeline`), so the API gives the same answers as the CLI.
Errors are :class:`emokit.errors.EmokitError` with a one-line message.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from emokit.errors import EmokitError
from emokit.inference.frames import Face, FramePipeline, check_image, detector_pool, runtime_label
from emokit.preprocess import to_model_input

if TYPE_CHECKING:
    from emokit.faces import DetectorChoice
    from emokit.inference.runtime import Runtime
    from emokit.records import ModelRecord
    from emokit.registry import Registry
    from emokit.runs import Run

__all__ = ["Analyzer", "Face", "load"]


def open_model(model: Run | str | Path | ModelRecord | None, registry: Registry, runtime: str = "auto", backend: str | None = None,
               runs: Path | None = None) -> Runtime:
    """Load ``model`` (a :class:`~emokit.runs.Run`, a run name, folder or ``latest`` under ``runs``, an
    exported model file, a bundled model's short name such as ``fer2013`` or its record; ``None``: the
    default bundled model) on ``runtime`` (``auto`` or a registered runtime name)."""
    from emokit.inference.runtimes import check_runtime, open_runtime  # noqa: PLC0415
    from emokit.inference.source import default_model  # noqa: PLC0415

    check_runtime(registry, runtime)
    if model is None:
        model = default_model(registry, runs)
    return open_runtime(model, registry, runtime, backend, root=runs)


class Analyzer:
    """A loaded model with a face detector: :meth:`analyze` photos, :meth:`classify` face crops.

    Safe to share between threads (each thread gets its own detector). Make one with :func:`load`.
    """

    def __init__(self, runtime: Runtime, pipeline: FramePipeline) -> None:
        self.runtime = runtime
        self.pipeline = pipeline

    @property
    def class_names(self) -> tuple[str, ...]:
        """The classes, in the order of :meth:`classify`'s columns."""
        return self.pipeline.class_names

    @property
    def label(self) -> str:
        """What runs the model: ``keras+torch``, ``litert``, ``onnx``..."""
        return runtime_label(self.runtime)

    def __repr__(self) -> str:
        return f"Analyzer(runtime={self.label!r}, classes={list(self.class_names)})"

    def analyze(self, image: str | Path | np.ndarray) -> list[Face]:
        """The faces in ``image`` (an image file, or a uint8 (H, W) gray / (H, W, 3) RGB array), largest first,
        each with ``box`` (x, y, w, h, and the detector's ``score``), ``probabilities`` and top ``emotion``."""
        if isinstance(image, (str, Path)):
            from emokit.inference.image_files import check_image_files  # noqa: PLC0415
            from emokit.preprocess import read_image  # noqa: PLC0415

            (path,) = check_image_files([image])
            image = read_image(path)
        elif not isinstance(image, np.ndarray):
            raise EmokitError(f"analyze() takes an image path or a numpy array, got {type(image).__name__}.")
        return self.pipeline.analyze(check_image(image)).faces

    def classify(self, faces: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
        """Probabilities (N, classes) for a batch of face crops: (N, H, W) gray, (N, H, W, 1|3) or a list of
        crops of any sizes; each is resized and converted as training did (:func:`emokit.preprocess.to_model_input`)."""
        if isinstance(faces, np.ndarray) and faces.ndim not in (3, 4):
            raise EmokitError(f"classify() takes a batch of faces (N, H, W) or (N, H, W, C), got shape {faces.shape}; "
                              "for one face, pass [face].")
        p = self.pipeline.preprocessing
        batch = np.empty((len(faces), *p.input_size, p.channels), dtype=np.uint8)
        for i, face in enumerate(faces):
            batch[i] = to_model_input(check_image(face), p.input_size, p.channels)
        return self.pipeline.classify(batch)


def load(model: str | Path | None = None, *, runtime: str = "auto", backend: str | None = None,
         detector: str | DetectorChoice | None = "haar", runs: str | Path | None = None,
         registry: Registry | None = None) -> Analyzer:
    """Load a trained model for :meth:`Analyzer.analyze` and :meth:`Analyzer.classify`.

    ``model``: ``None`` (default) for the model emokit ships (``fer2013``, trained on FER-2013: see
    docs/model-card.md), a bundled model's short name, a run name, a run folder, ``latest`` (the newest
    run under ``runs``, default ``$EMOKIT_RUNS_DIR`` or ``./runs``), or an exported model file
    (``RUN/model.onnx``). ``runtime``: ``auto`` (the run's fastest current export, else Keras) or a runtime name
    (``keras``, ``litert``, ``onnx``, or one a plugin adds). ``backend``: the Keras backend.
    ``detector``: a face detector ``NAME[=key=value,...]``, or ``None`` when images are already face crops.
    """
    from emokit.registry import build_registry  # noqa: PLC0415

    registry = registry or build_registry()
    pool = detector_pool(registry, detector)  # a bad detector is an argument error: before the model loads
    loaded = open_model(model, registry, runtime, backend, Path(runs) if runs is not None else None)
    return Analyzer(loaded, FramePipeline(loaded, pool))
