"""A face "detector" for photos that are already face crops: the central square is the face."""

from __future__ import annotations

import numpy as np

from emokit.records import Box


class WholeImageDetector:
    """Returns one box: the central square of the image, shrunk by ``margin`` on each side.

    Useful for FER-style crops, where a real detector often finds nothing because the face
    fills the frame.
    """

    def __init__(self, margin: float = 0.0) -> None:
        if not 0 <= margin < 0.5:
            raise ValueError(f"margin must be in [0, 0.5), got {margin}")
        self.margin = margin

    def detect(self, image: np.ndarray) -> list[Box]:
        """One centred square box, or none for an empty image."""
        height, width = image.shape[:2]
        side = int(min(height, width) * (1 - 2 * self.margin))
        if side <= 0:
            return []
        return [Box(x=(width - side) // 2, y=(height - side) // 2, w=side, h=side)]
