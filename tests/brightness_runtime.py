"""A stand-in runtime for tests of the code around a model: "happy" the brighter the face crop.

Deterministic and instant, so tests of folders, videos and the demo's Video tab exercise real OpenCV,
real detectors and real files without waiting for a model; it counts its calls (batching tests).
"""

from __future__ import annotations

import numpy as np

from emokit.inference.preprocessing import Preprocessing


class Brightness:
    """A runtime (``label``, ``class_names``, ``preprocessing``, ``probabilities``) that answers from brightness."""

    label = "brightness"
    class_names = ("happy", "sad")

    def __init__(self) -> None:
        self.preprocessing = Preprocessing()
        self.calls: list[int] = []  # batch sizes, one per call

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        self.calls.append(len(images))
        happy = images.reshape(len(images), -1).mean(axis=1) / 255.0
        return np.stack([happy, 1 - happy], axis=1).astype(np.float32)
