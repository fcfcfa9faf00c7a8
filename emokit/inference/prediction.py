"""``emokit predict``'s work: the faces in image files and each one's emotion, through the frame pipeline.

Prediction is set up in two steps, so every argument error comes before the model loads (seconds):
:func:`check_prediction` checks the model, detector, runtime, TTA and backend a user named and
returns a :class:`PredictionSetup`; :func:`open_predictor` then loads the model once, for images
(:mod:`emokit.inference.folders`) and videos (:mod:`emokit.inference.video`) alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emokit.faces import DetectorChoice, parse_detector
from emokit.inference.frames import FramePipeline, detector_pool
from emokit.records import ModelRecord
from emokit.registry import Registry
from emokit.runs import Run, find_run, require_usable

if TYPE_CHECKING:
    from emokit.inference.runtime import Runtime

@dataclass(frozen=True)
class PredictionSetup:
    """What a prediction runs with, every part checked: the model (a run or an exported file), the face
    detector (``None``: images are face crops), the runtime, TTA mode and Keras backend."""

    model: Run | Path | ModelRecord
    detector: DetectorChoice | None
    runtime: str = "keras"
    tta: str = "none"
    backend: str | None = None
    root: Path | None = None


def check_prediction(model: str | Path | Run | ModelRecord, registry: Registry, *, detector: str | DetectorChoice | None = "haar",
                     backend: str | None = None, root: Path | None = None, runtime: str = "keras",
                     tta: str = "none") -> PredictionSetup:
    """Check everything a prediction needs except its inputs, without loading the model (one-line errors).

    ``model`` is a run (name, folder, ``latest`` under ``root``) or an exported model file, as
    :func:`emokit.inference.api.open_model` takes it. ``detector`` is ``NAME[=key=value,...]`` (see
    :func:`emokit.faces.parse_detector`), or None for images that are already face crops. ``runtime`` is
    ``auto`` or a registered runtime name; ``tta`` one of :data:`emokit.inference.tta.TTA_MODES`.
    """
    from emokit.backend import resolve_backend  # noqa: PLC0415
    from emokit.inference.runtimes import check_runtime  # noqa: PLC0415
    from emokit.inference.tta import check_tta  # noqa: PLC0415

    choice = None if detector is None else parse_detector(registry, detector)
    if isinstance(model, ModelRecord):
        from emokit.inference.source import model_source  # noqa: PLC0415

        model_source(model)  # a changed file (SHA-256) or a missing description is named before the inputs are checked
    elif not isinstance(model, Run) and not Path(model).is_file():
        model = require_usable(find_run(model, root))  # a missing run is named before the inputs are checked
    check_runtime(registry, runtime)
    check_tta(tta)
    detector_pool(registry, choice).get()  # a detector that cannot start (a missing model file) fails before the model loads
    if backend is not None:
        resolve_backend(registry, backend)
    return PredictionSetup(model if isinstance(model, (Run, ModelRecord)) else Path(model), choice, runtime, tta, backend, root)


class Predictor:
    """A loaded model (with its TTA) and the setup's detector: frame pipelines for photos and videos."""

    def __init__(self, runtime: Runtime, setup: PredictionSetup, registry: Registry) -> None:
        self.runtime = runtime
        self.setup = setup
        self.registry = registry

    def pipeline(self, preferred: Mapping[str, Any] | None = None, detect_width: int | None = None) -> FramePipeline:
        """A frame pipeline on this model; ``preferred`` detector options apply where the user set none
        (see :func:`~emokit.inference.frames.detector_pool`), ``detect_width`` shrinks frames for detection."""
        return FramePipeline(self.runtime, detector_pool(self.registry, self.setup.detector, preferred),
                             detect_width=detect_width)


def open_predictor(setup: PredictionSetup, registry: Registry) -> Predictor:
    """Load the model of a checked setup (seconds: this is where Keras or a runtime library is imported)."""
    from emokit.inference.api import open_model  # noqa: PLC0415
    from emokit.inference.tta import with_tta  # noqa: PLC0415

    runtime = open_model(setup.model, registry, setup.runtime, setup.backend, setup.root)
    return Predictor(with_tta(runtime, setup.tta), setup, registry)


def face_records(faces: Iterable[Any]) -> list[dict[str, Any]]:
    """Faces as ``emokit predict --json`` prints them: box [x, y, w, h], detection score, top emotion, probabilities."""
    return [{"box": [f.box.x, f.box.y, f.box.w, f.box.h], "score": round(float(f.score), 4),
             "emotion": f.emotion, "probabilities": f.probabilities} for f in faces]
