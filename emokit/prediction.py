"""Predict emotions for image files: the core of ``emokit predict``."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from emokit.errors import EmokitError
from emokit.faces import DetectorChoice, parse_detector
from emokit.predictor import FacePrediction, check_runtime, open_predictor
from emokit.records import Box
from emokit.registry import Registry
from emokit.runs import Run, find_run, require_usable


class WholeImage:
    """A 'detector' that returns the whole image as one face, for images that are already face crops."""

    def detect(self, image: np.ndarray) -> list[Box]:
        return [Box(0, 0, image.shape[1], image.shape[0])]


def check_image_files(images: Iterable[str | Path]) -> list[Path]:
    """The image paths, each checked to be a readable, non-empty file: these errors need no model, so
    they come before one loads (which takes seconds), not after it."""
    paths = [Path(image) for image in images]
    for path in paths:
        if not path.exists():
            raise EmokitError(f"Image '{path}' does not exist.")
        if path.is_dir():
            raise EmokitError(f"Image '{path}' is a folder, not an image file; pass the images in it (e.g. {path}/*.jpg).")
        if path.stat().st_size == 0:
            raise EmokitError(f"{path}: empty file (0 bytes), not an image.")
        if not os.access(path, os.R_OK):
            raise EmokitError(f"Image '{path}' cannot be read: permission denied.")
    return paths


def predict_images(run_ref: str | Path | Run, images: Iterable[Path], registry: Registry, *,
                   detector: str | DetectorChoice | None = "haar",
                   backend: str | None = None, root: Path | None = None, runtime: str = "keras",
                   tta: str = "none") -> list[dict[str, Any]]:
    """For each image: its faces, each with box, probabilities and top emotion (JSON-ready).

    ``detector`` is ``NAME[=key=value,...]`` (see :func:`emokit.faces.parse_detector`), or None for
    images that are already face crops. ``tta`` averages each face over views of it (see
    :data:`emokit.tta.TTA_MODES`). Every argument is checked before the model loads.
    """
    from emokit.backend import resolve_backend  # noqa: PLC0415
    from emokit.preprocess import read_image  # noqa: PLC0415
    from emokit.tta import check_tta, with_tta  # noqa: PLC0415

    choice = None if detector is None else parse_detector(registry, detector)
    run = require_usable(run_ref if isinstance(run_ref, Run) else find_run(run_ref, root))
    paths = check_image_files(images)
    check_runtime(runtime)
    check_tta(tta)
    finder = WholeImage() if choice is None else choice.create()
    if backend is not None:
        resolve_backend(registry, backend)
    predictor = with_tta(open_predictor(run, registry, backend, runtime), tta)
    results = []
    for path in paths:
        faces: list[FacePrediction] = predictor.predict_faces(read_image(path), finder)
        results.append({
            "image": str(path),
            "faces": [{"box": [f.box.x, f.box.y, f.box.w, f.box.h], "emotion": f.emotion, "probabilities": f.probabilities}
                      for f in faces],
        })
    return results
