"""Predict emotions for image files: the core of ``emokit predict``."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from emokit.predictor import FacePrediction, open_predictor
from emokit.records import Box
from emokit.registry import Registry
from emokit.runs import find_run


class WholeImage:
    """A 'detector' that returns the whole image as one face, for images that are already face crops."""

    def detect(self, image: np.ndarray) -> list[Box]:
        return [Box(0, 0, image.shape[1], image.shape[0])]


def predict_images(run_ref: str | Path, images: Iterable[Path], registry: Registry, *, detector: str | None = "haar",
                   backend: str | None = None, root: Path | None = None, runtime: str = "keras",
                   tta: str = "none") -> list[dict[str, Any]]:
    """For each image: its faces, each with box, probabilities and top emotion (JSON-ready).

    ``tta`` averages each face over views of it (see :data:`emokit.tta.TTA_MODES`).
    """
    from emokit.preprocess import read_image  # noqa: PLC0415
    from emokit.tta import check_tta, with_tta  # noqa: PLC0415

    check_tta(tta)
    predictor = with_tta(open_predictor(find_run(run_ref, root), registry, backend, runtime), tta)
    finder = WholeImage() if detector is None else registry.get("face_detector", detector).create()
    results = []
    for path in images:
        faces: list[FacePrediction] = predictor.predict_faces(read_image(Path(path)), finder)
        results.append({
            "image": str(path),
            "faces": [{"box": [f.box.x, f.box.y, f.box.w, f.box.h], "emotion": f.emotion, "probabilities": f.probabilities}
                      for f in faces],
        })
    return results
