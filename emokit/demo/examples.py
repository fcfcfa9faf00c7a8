"""Example photos for the Photo tab, written at start-up from real photographs shipped in scikit-image.

emokit ships no image files; scikit-image (a dev dependency) includes a few public-domain
photographs. Without it the demo simply has no examples.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def example_images() -> dict[str, np.ndarray]:
    """name -> uint8 RGB photo; empty when scikit-image is not installed."""
    try:
        from skimage import data  # noqa: PLC0415 - optional
    except ImportError:
        return {}
    astronaut = data.astronaut()  # Eileen Collins, NASA portrait (public domain): one frontal face
    pair = np.concatenate([astronaut, astronaut[:, ::-1]], axis=1)  # two faces in one photo
    gray = cv2.cvtColor(data.camera(), cv2.COLOR_GRAY2RGB)  # a cameraman seen from the side: shows "no face"
    return {"astronaut": astronaut, "two-faces": pair, "cameraman": gray}


def write_examples(folder: Path) -> list[Path]:
    """Write the example photos into ``folder`` as JPEG files and return their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, image in example_images().items():
        path = folder / f"{name}.jpg"
        cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
        paths.append(path)
    return paths
