"""``emokit predict``'s work: the faces in image files and each one's emotion, through the frame pipeline."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from emokit.faces import DetectorChoice
from emokit.inference.frames import FramePipeline, detector_pool
from emokit.inference.image_files import check_image_files, image_bytes
from emokit.registry import Registry
from emokit.runs import Run, find_run, require_usable


def predict_images(model: str | Path | Run, images: Iterable[Path], registry: Registry, *,
                   detector: str | DetectorChoice | None = "haar",
                   backend: str | None = None, root: Path | None = None, runtime: str = "keras",
                   tta: str = "none") -> list[dict[str, Any]]:
    """For each image: its faces, each with box, detection score, probabilities and top emotion (JSON-ready).

    ``model`` is a run (name, folder, ``latest`` under ``root``) or an exported model file, as
    :func:`emokit.inference.api.open_model` takes it.
    ``detector`` is ``NAME[=key=value,...]`` (see :func:`emokit.faces.parse_detector`), or None for
    images that are already face crops. ``runtime`` is ``auto`` or a registered runtime name. ``tta``
    averages each face over views of it (see :data:`emokit.inference.tta.TTA_MODES`). Every argument
    is checked before the model loads.
    """
    from emokit.backend import resolve_backend  # noqa: PLC0415
    from emokit.inference.api import open_model  # noqa: PLC0415
    from emokit.inference.runtimes import check_runtime  # noqa: PLC0415
    from emokit.inference.tta import check_tta, with_tta  # noqa: PLC0415

    detectors = detector_pool(registry, detector)
    if not isinstance(model, Run) and not Path(model).is_file():
        model = require_usable(find_run(model, root))  # a missing run is named before the images are checked
    paths = check_image_files(images)
    check_runtime(registry, runtime)
    check_tta(tta)
    detectors.get()  # a detector that cannot start (a missing model file) fails before the model loads
    if backend is not None:
        resolve_backend(registry, backend)
    pipeline = FramePipeline(with_tta(open_model(model, registry, runtime, backend, root), tta), detectors)
    results = []
    for path in paths:
        analysis = pipeline.analyze(image_bytes(path), source=str(path))
        results.append({
            "image": str(path),
            "faces": [{"box": [f.box.x, f.box.y, f.box.w, f.box.h], "score": round(float(f.score), 4),
                       "emotion": f.emotion, "probabilities": f.probabilities}
                      for f in analysis.faces],
        })
    return results
