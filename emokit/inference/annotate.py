"""Drawing on frames with OpenCV: face boxes with the top emotion, notes, and saliency heat maps.

The frame pipeline's last stage (:mod:`emokit.inference.frames`), also used by the demo. Everything
here takes and returns uint8 RGB arrays; nothing is written to disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import cv2
import numpy as np

from emokit.records import Box

if TYPE_CHECKING:
    from emokit.inference.frames import Face

#: One colour (RGB) per FER-2013 emotion, so a label's colour reads at a glance; others cycle the palette.
EMOTION_COLORS: dict[str, tuple[int, int, int]] = {
    "angry": (230, 57, 70),
    "disgust": (106, 153, 78),
    "fear": (155, 93, 229),
    "happy": (255, 190, 11),
    "neutral": (173, 181, 189),
    "sad": (58, 134, 255),
    "surprise": (255, 0, 110),
}
_PALETTE = tuple(EMOTION_COLORS.values())


def color_for(emotion: str, class_names: Sequence[str] = ()) -> tuple[int, int, int]:
    """The RGB colour of an emotion (a stable palette colour for names outside FER-2013)."""
    if emotion in EMOTION_COLORS:
        return EMOTION_COLORS[emotion]
    index = list(class_names).index(emotion) if emotion in class_names else sum(map(ord, emotion))
    return _PALETTE[index % len(_PALETTE)]


def as_rgb(image: np.ndarray) -> np.ndarray:
    """A writable uint8 RGB copy of a gray (H, W), (H, W, 1), RGB or RGBA image."""
    image = np.asarray(image, dtype=np.uint8)
    if image.ndim == 2 or image.shape[2] == 1:
        return cv2.cvtColor(image.reshape(image.shape[0], image.shape[1]), cv2.COLOR_GRAY2RGB)
    return np.ascontiguousarray(image[:, :, :3]).copy()


def draw_faces(image: np.ndarray, faces: Sequence[Face], numbered: bool = False,
               prefixes: Sequence[str] | None = None) -> np.ndarray:
    """A copy of ``image`` (RGB) with every face boxed and labelled with its top emotion and probability.

    ``numbered`` prefixes labels with the face's number (1 = largest), matching the per-face bars;
    ``prefixes`` (one per face, e.g. a video's face ids "#3") replace the numbers.
    """
    canvas = as_rgb(image)
    height, width = canvas.shape[:2]
    # Line and text sizes follow the image size, so labels stay readable on phone photos and thumbnails alike.
    scale = max(0.45, min(height, width) / 700)
    thickness = max(2, int(round(2 * scale)))
    for number, face in enumerate(faces, start=1):
        box, emotion = face.box, face.emotion
        color = color_for(emotion, tuple(face.probabilities))
        cv2.rectangle(canvas, (box.x, box.y), (box.x + box.w, box.y + box.h), color, thickness, cv2.LINE_AA)
        text = f"{emotion} {face.probabilities[emotion]:.0%}"
        if prefixes is not None:
            text = f"{prefixes[number - 1]} {text}"
        elif numbered:
            text = f"{number}: {text}"
        _label(canvas, text, box, color, scale, thickness)
    return canvas


def _label(canvas: np.ndarray, text: str, box: Box, color: tuple[int, int, int], scale: float, thickness: int) -> None:
    """A filled label above the box (inside it when the box touches the top edge)."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    (text_w, text_h), baseline = cv2.getTextSize(text, font, scale, thickness)
    pad = max(2, thickness * 2)
    top = box.y - text_h - baseline - 2 * pad
    if top < 0:
        top = box.y
    left = min(max(0, box.x), max(0, canvas.shape[1] - text_w - 2 * pad))
    bottom, right = top + text_h + baseline + 2 * pad, left + text_w + 2 * pad
    cv2.rectangle(canvas, (left, top), (right, bottom), color, cv2.FILLED)
    # Dark text on light colours, white on dark ones (ITU-R 601 luma).
    luma = 0.299 * color[0] + 0.587 * color[1] + 0.114 * color[2]
    ink = (20, 20, 20) if luma > 140 else (255, 255, 255)
    cv2.putText(canvas, text, (left + pad, bottom - baseline - pad), font, scale, ink, thickness, cv2.LINE_AA)


def overlay_heat(image: np.ndarray, heat: np.ndarray, region: Box, alpha: float = 0.5) -> np.ndarray:
    """A copy of ``image`` (RGB) with ``heat`` (2-D, 0..1) resized onto ``region`` as a JET colour map.

    Pixels where the heat is zero keep their colour, so only what drove the prediction is tinted.
    """
    canvas = as_rgb(image)
    x0, y0 = max(0, region.x), max(0, region.y)
    x1, y1 = min(canvas.shape[1], region.x + region.w), min(canvas.shape[0], region.y + region.h)
    if x1 <= x0 or y1 <= y0:
        return canvas
    heat = np.clip(np.nan_to_num(np.asarray(heat, dtype=np.float32)), 0.0, 1.0)
    heat = cv2.resize(heat, (region.w, region.h), interpolation=cv2.INTER_CUBIC)
    heat = np.clip(heat[y0 - region.y:y1 - region.y, x0 - region.x:x1 - region.x], 0.0, 1.0)
    colored = cv2.cvtColor(cv2.applyColorMap((heat * 255).astype(np.uint8), cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    weight = (alpha * heat)[:, :, None]
    patch = canvas[y0:y1, x0:x1].astype(np.float32)
    canvas[y0:y1, x0:x1] = np.clip(patch * (1 - weight) + colored.astype(np.float32) * weight, 0, 255).astype(np.uint8)
    return canvas


def draw_text(image: np.ndarray, text: str) -> np.ndarray:
    """A copy of ``image`` (RGB) with a one-line note in its top-left corner (e.g. "no face found")."""
    canvas = as_rgb(image)
    scale = max(0.45, min(canvas.shape[:2]) / 700)
    thickness = max(1, int(round(2 * scale)))
    _label(canvas, text, Box(0, 0, canvas.shape[1], canvas.shape[0]), (40, 40, 40), scale, thickness)
    return canvas
