"""Test-time augmentation: classify several views of each face and average their probabilities.

``flip`` averages each face with its mirror image (emotions are left-right symmetric, and the flip
augmentation trains on mirrors). ``ten-crop`` is the FER literature's ten-crop: the four corner
crops and the centre crop, each resized back to the model's input and each also mirrored. The crop
side is the run's ``Preprocessing.tta_crop`` of the input (15/16: 45 of 48 pixels), a slight zoom-in
that the zoom and shift augmentations train on, chosen on the validation split carved from train,
never on a test set (docs/results.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import cv2
import numpy as np

from emokit.errors import EmokitError
from emokit.inference.preprocessing import DEFAULT_TTA_CROP
from emokit.inference.runtime import BaseRuntime, Runtime

if TYPE_CHECKING:
    from emokit.inference.preprocessing import Preprocessing
    from emokit.runs import Run
    from emokit.spec import ModelSpec

#: Test-time augmentation modes, in order of cost: 1, 2 and 10 model calls per face.
TTA_MODES = ("none", "flip", "ten-crop")

#: The ten-crop crop side as a share of the input side for runs that record none.
CROP_FRACTION = DEFAULT_TTA_CROP


def check_tta(mode: str) -> None:
    """Raise a one-line error for a mode that is not one of :data:`TTA_MODES`."""
    if mode not in TTA_MODES:
        raise EmokitError(f"Unknown test-time augmentation '{mode}'. Available: {', '.join(TTA_MODES)}.")


def _resize(images: np.ndarray, height: int, width: int) -> np.ndarray:
    """Resize a batch (N, h, w, C) to (N, height, width, C), keeping the dtype and channel axis."""
    if not len(images):
        return np.zeros((0, height, width, images.shape[3]), dtype=images.dtype)
    return np.stack([cv2.resize(image, (width, height), interpolation=cv2.INTER_LINEAR).reshape(height, width, -1)
                     for image in images])


def five_crops(images: np.ndarray, fraction: float = CROP_FRACTION) -> list[np.ndarray]:
    """The centre crop and the four corner crops of each image, each resized back to the image size."""
    height, width = images.shape[1:3]
    ch, cw = round(height * fraction), round(width * fraction)
    tops, lefts = (0, height - ch), (0, width - cw)
    corners = [(top, left) for top in tops for left in lefts]
    centre = ((height - ch) // 2, (width - cw) // 2)
    return [_resize(images[:, top:top + ch, left:left + cw], height, width) for top, left in (centre, *corners)]


def tta_views(images: np.ndarray, mode: str, crop: float = CROP_FRACTION) -> list[np.ndarray]:
    """The views of a batch of model-input images (N, H, W, C) that ``mode`` averages over."""
    check_tta(mode)
    base = [images] if mode in ("none", "flip") else five_crops(images, crop)
    if mode == "none":
        return base
    return [view for image in base for view in (image, image[:, :, ::-1])]


class AveragedViews(BaseRuntime):
    """A runtime whose probabilities are the mean over a TTA mode's views of each face.

    It is a :class:`~emokit.inference.runtime.Runtime` itself, so evaluation, ``emokit predict`` and
    the demo use it unchanged; its label (``keras+tensorflow+ten-crop``) keeps TTA figures apart from
    single-pass ones. The crop fraction is the run's recorded ``tta_crop``.
    """

    def __init__(self, inner: Runtime, mode: str) -> None:
        check_tta(mode)
        self.inner = inner
        self.mode = mode
        self.source = getattr(inner, "source", None)
        self.label = f"{inner.label}+{mode}"

    @property
    def spec(self) -> ModelSpec:  # the inner runtime's: a third-party runtime may have no ``source``
        return self.inner.spec

    @property
    def preprocessing(self) -> Preprocessing:
        return self.inner.preprocessing

    @property
    def run(self) -> Run | None:
        return getattr(self.inner, "run", None)

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Mean probabilities over the views of uint8 model-input images (N, H, W, C)."""
        views = tta_views(np.asarray(images), self.mode, self.preprocessing.tta_crop)
        # One model call over all views: fewer, larger batches run faster than ten small ones.
        probs = self.inner.probabilities(np.concatenate(views))
        return probs.reshape(len(views), len(images), probs.shape[-1]).mean(axis=0)


def with_tta(runtime: Runtime, mode: str) -> Runtime:
    """``runtime`` itself for mode ``none``, else one that averages over the mode's views."""
    check_tta(mode)
    return runtime if mode == "none" else AveragedViews(runtime, mode)
