"""What drove a prediction: occlusion saliency, computed through the runtime only.

Occlusion (Zeiler & Fergus, 2014) slides a grey patch over the face and records how much the
predicted class's probability drops with each part hidden. It needs nothing but forward passes,
so it works unchanged on every Keras backend (torch, jax, tensorflow) and on any architecture,
unlike Grad-CAM, which needs backend-specific gradients and a named convolution layer. All
occluded copies go through the model as one batch: about a hundred 48x48 images, a few
milliseconds with a direct model call.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def occlusion_batch(face: np.ndarray, patch: int, stride: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Copies of ``face`` (uint8 H, W, C) each with one ``patch``-sized square set to the face's mean grey."""
    height, width = face.shape[:2]
    fill = np.uint8(round(float(face.mean())))
    ys = list(range(0, max(1, height - patch + 1), stride))
    xs = list(range(0, max(1, width - patch + 1), stride))
    # Cover the bottom and right edges even when the stride does not divide the size.
    if ys[-1] + patch < height:
        ys.append(height - patch)
    if xs[-1] + patch < width:
        xs.append(width - patch)
    positions = [(y, x) for y in ys for x in xs]
    batch = np.repeat(face[None], len(positions), axis=0)
    for i, (y, x) in enumerate(positions):
        batch[i, y:y + patch, x:x + patch] = fill
    return batch, positions


def occlusion_map(
    classify: Callable[[np.ndarray], np.ndarray],
    face: np.ndarray,
    class_index: int,
    patch: int | None = None,
    stride: int | None = None,
) -> np.ndarray:
    """Heat map (H, W) in 0..1 of how much hiding each pixel lowers the probability of ``class_index``.

    ``classify`` maps a uint8 batch (N, H, W, C) to probabilities (N, classes), e.g.
    :meth:`emokit.inference.runtime.Runtime.probabilities`; ``face`` is one model-input image. The
    patch defaults to a sixth of the face (8 px on 48x48), the stride to half the patch.
    """
    face = np.asarray(face, dtype=np.uint8)
    if face.ndim == 2:
        face = face[:, :, None]
    height, width = face.shape[:2]
    patch = patch or max(2, min(height, width) // 6)
    stride = stride or max(1, patch // 2)
    batch, positions = occlusion_batch(face, patch, stride)
    probs = classify(np.concatenate([face[None], batch]))
    base, occluded = float(probs[0, class_index]), probs[1:, class_index]
    drops = np.clip(base - occluded, 0.0, None)
    heat = np.zeros((height, width), dtype=np.float32)
    count = np.zeros((height, width), dtype=np.float32)
    for drop, (y, x) in zip(drops, positions):
        heat[y:y + patch, x:x + patch] += drop
        count[y:y + patch, x:x + patch] += 1
    heat /= np.maximum(count, 1)
    peak = float(heat.max())
    # A prediction no patch can dent gives an all-zero map (nothing to show), not noise scaled up.
    return heat / peak if peak > 1e-6 else heat
