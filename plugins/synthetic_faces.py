"""The synthetic dataset's faces (the plugin's record is in :mod:`emokit_plugins.synthetic`).

Each face is drawn with OpenCV (face oval, eyes with pupils, eyebrows, nose, mouth) in canonical
coordinates on a 96-unit canvas, then rotated, scaled and shifted, and given random brightness,
contrast, blur and noise. Expressions follow :data:`emokit.FER_CLASSES`; each sample's expression
strength is random, and weak ones come close to neutral, so the task is learnable (a small CNN
gets well above chance in a couple of epochs) but not trivial. Seeded: the same request gives the
same arrays. About 3,500 images at 48x48 take well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from emokit import FER_CLASSES
from emokit.data import SYNTHETIC
from emokit.data.fingerprint import fingerprint_values
from emokit.data.request import check_request
from emokit.preprocess import to_model_input
from emokit.records import DataRequest, Dataset, Split

NAME = SYNTHETIC
#: Bump when the drawing changes, so fingerprints (and run metadata) tell the versions apart.
GENERATOR_VERSION = 1
#: Images per class in each split.
PER_CLASS = {"train": 400, "val": 60, "test": 60}
_CANVAS = 96  # drawing units; scaled up for requests larger than this
_SHIFT = 4  # OpenCV fixed-point bits: sub-pixel coordinates for smooth small drawings
_ONE = 1 << _SHIFT


@dataclass(frozen=True)
class Expression:
    """How far an expression moves each feature from neutral (at strength 1)."""

    eye_open: float  # eye height multiplier - 1
    brow_raise: float  # whole brow up (canvas units, positive = up)
    brow_tilt: float  # inner brow end up relative to outer (positive = worried, negative = angry V)
    mouth_curve: float  # mouth corners down (positive = frown, negative = smile)
    mouth_open: float  # mouth opening height
    mouth_width: float  # mouth half-width change
    asymmetry: float  # one-sided sneer: one mouth corner and one brow lifted
    wrinkle: bool = False  # nose wrinkle lines


#: Expressions in FER_CLASSES order.
EXPRESSIONS: tuple[Expression, ...] = (
    Expression(eye_open=-0.35, brow_raise=-2.5, brow_tilt=-5.0, mouth_curve=2.5, mouth_open=0.0, mouth_width=-2.0, asymmetry=0.0),  # angry
    Expression(eye_open=-0.40, brow_raise=-1.5, brow_tilt=-2.0, mouth_curve=1.0, mouth_open=0.0, mouth_width=-1.0, asymmetry=5.0, wrinkle=True),  # disgust
    Expression(eye_open=0.45, brow_raise=3.0, brow_tilt=4.0, mouth_curve=2.0, mouth_open=4.0, mouth_width=4.0, asymmetry=0.0),  # fear
    Expression(eye_open=-0.25, brow_raise=1.0, brow_tilt=0.0, mouth_curve=-8.0, mouth_open=1.5, mouth_width=4.0, asymmetry=0.0),  # happy
    Expression(eye_open=-0.20, brow_raise=0.0, brow_tilt=4.5, mouth_curve=6.0, mouth_open=0.0, mouth_width=-1.0, asymmetry=0.0),  # sad
    Expression(eye_open=0.60, brow_raise=6.0, brow_tilt=0.0, mouth_curve=0.0, mouth_open=9.0, mouth_width=-4.0, asymmetry=0.0),  # surprise
    Expression(eye_open=0.0, brow_raise=0.0, brow_tilt=0.0, mouth_curve=0.0, mouth_open=0.0, mouth_width=0.0, asymmetry=0.0),  # neutral
)
assert len(EXPRESSIONS) == len(FER_CLASSES)


_DRAWS_PER_FACE = 48  # more than a face uses
_NOISE_FIELDS = 64


class _Draws:
    """Uniform random numbers drawn in bulk and handed out one at a time."""

    def __init__(self, values: np.ndarray) -> None:
        self._values = values.tolist()
        self._next = 0

    def uniform(self, low: float, high: float) -> float:
        """The next number, scaled to [low, high)."""
        value = self._values[self._next]
        self._next += 1
        return low + (high - low) * value

    def sign(self) -> int:
        """-1 or 1 with equal chance."""
        return 1 if self.uniform(0, 1) < 0.5 else -1


def load_synthetic(request: DataRequest) -> Dataset:
    """Generate the synthetic dataset at ``request.image_size`` / ``request.channels``, seeded by ``request.seed``."""
    check_request(request)
    size = (int(request.image_size[0]), int(request.image_size[1]))
    total = sum(PER_CLASS.values()) * len(FER_CLASSES)
    done = 0
    splits: dict[str, Split] = {}
    for index, (split, per_class) in enumerate(PER_CLASS.items()):
        rng = np.random.default_rng([request.seed, index])  # each split independent of the others' sizes
        labels = rng.permutation(np.repeat(np.arange(len(FER_CLASSES), dtype=np.int64), per_class))
        images = np.empty((len(labels), *size, request.channels), dtype=np.uint8)
        for i, label in enumerate(labels):
            images[i] = draw_face(rng, int(label), size, request.channels)
        splits[split] = Split(images=_photometric_jitter(rng, images), labels=labels)
        done += len(labels)
        if request.progress is not None:
            request.progress(done, total)
    fingerprint = fingerprint_values(NAME, GENERATOR_VERSION, request.seed, size, request.channels, tuple(PER_CLASS.items()))
    return Dataset(name=NAME, class_names=FER_CLASSES, splits=splits, fingerprint=fingerprint, source=NAME)


def draw_face(rng: np.random.Generator, label: int, size: tuple[int, int], channels: int) -> np.ndarray:
    """One face with expression ``label`` as uint8 (height, width, channels)."""
    side = max(_CANVAS, *size)
    k = side / _CANVAS  # canvas units -> pixels
    draws = _Draws(rng.random(_DRAWS_PER_FACE))  # one generator call per face: scalar calls are slow
    u = draws.uniform
    # Faces are light with dark features, like lit faces in photos; the background is lighter or
    # darker than the face by at least 40 grey levels.
    face_tone = u(120, 235)
    background = face_tone - u(40, 110) if draws.sign() < 0 or face_tone > 200 else min(255.0, face_tone + u(40, 110))
    dark = u(0, 60)
    tint = (u(0.75, 1.25), u(0.75, 1.25), u(0.75, 1.25)) if channels == 3 else (1.0,)

    def colour(level: float) -> tuple[float, float, float]:
        return tuple(min(255.0, max(0.0, level * t)) for t in tint)  # type: ignore[return-value]

    # Grayscale requests draw on one channel: a third of the work.
    canvas = np.empty((side, side, channels), dtype=np.uint8)
    canvas[:] = colour(background)
    expression = EXPRESSIONS[label]
    strength = u(0.55, 1.3) if label != FER_CLASSES.index("neutral") else 0.0
    _draw_features(canvas, draws, expression, strength, k, colour(face_tone), colour(dark))

    angle = u(-12, 12)
    scale = u(0.9, 1.1)
    matrix = cv2.getRotationMatrix2D((side / 2, side / 2), angle, scale)
    matrix[0, 2] += u(-4, 4) * k
    matrix[1, 2] += u(-4, 4) * k
    canvas = cv2.warpAffine(canvas, matrix, (side, side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return to_model_input(canvas, size, channels)


def _photometric_jitter(rng: np.random.Generator, images: np.ndarray) -> np.ndarray:
    """Random contrast, brightness and Gaussian noise per image, done for the whole batch at once."""
    n = len(images)
    contrast = rng.uniform(0.75, 1.25, (n, 1, 1, 1)).astype(np.float32)
    brightness = rng.uniform(-25, 25, (n, 1, 1, 1)).astype(np.float32)
    sigma = rng.uniform(2, 10, (n, 1, 1, 1)).astype(np.float32)
    # Fresh Gaussian noise for every pixel of every image is the slowest part at larger sizes;
    # a bank of noise fields, each picked at random and flipped, is as good for training.
    bank = rng.standard_normal((_NOISE_FIELDS, *images.shape[1:]), dtype=np.float32)
    pick = rng.integers(0, _NOISE_FIELDS, n)
    out = np.empty_like(images)
    for start in range(0, n, 256):  # chunks keep the float copies small
        stop = min(start + 256, n)
        noise = bank[pick[start:stop]]
        noise[::2] = noise[::2, :, ::-1]
        chunk = images[start:stop].astype(np.float32)
        chunk *= contrast[start:stop]
        chunk += brightness[start:stop]
        chunk += noise * sigma[start:stop]
        np.clip(chunk, 0, 255, out=chunk)
        out[start:stop] = chunk
    return out


def _draw_features(canvas: np.ndarray, draws: _Draws, e: Expression, s: float, k: float, skin: tuple, dark: tuple) -> None:
    """Draw the face on ``canvas`` in canonical coordinates (canvas units scaled by ``k``)."""
    u = draws.uniform

    def p(x: float, y: float) -> tuple[int, int]:
        return int(round(x * k * _ONE)), int(round(y * k * _ONE))

    def r(v: float) -> int:
        return max(1, int(round(v * k * _ONE)))

    def t(v: float) -> int:
        return max(1, int(round(v * k)))

    aa = cv2.LINE_AA
    cx, cy = 48 + u(-2, 2), 50 + u(-2, 2)
    cv2.ellipse(canvas, p(cx, cy), (r(u(27, 32)), r(u(34, 40))), 0, 0, 360, skin, -1, aa, _SHIFT)
    if u(0, 1) < 0.5:  # hair: a nuisance the model must learn to ignore
        cv2.ellipse(canvas, p(cx, cy - u(22, 28)), (r(u(26, 33)), r(u(10, 16))), 0, 180, 360, dark, -1, aa, _SHIFT)

    eye_y = cy - 8 + u(-1.5, 1.5)
    eye_dx = u(11, 14)
    eye_w = u(4.5, 6)
    eye_h = max(0.8, u(3, 4) * (1 + s * e.eye_open))
    side_sign = draws.sign()  # which side a one-sided expression lifts
    for sign in (-1, 1):
        ex = cx + sign * eye_dx
        cv2.ellipse(canvas, p(ex, eye_y), (r(eye_w), r(eye_h)), 0, 0, 360, dark, t(1.8), aa, _SHIFT)
        cv2.circle(canvas, p(ex + u(-0.5, 0.5), eye_y), r(min(eye_h, 2.2)), dark, -1, aa, _SHIFT)
        lift = s * e.asymmetry * 0.4 if sign == side_sign else 0.0
        brow_y = eye_y - 7 - s * e.brow_raise - lift + u(-1, 1)
        inner = (ex - sign * eye_w * 1.2, brow_y - s * e.brow_tilt * 0.5)
        outer = (ex + sign * eye_w * 1.3, brow_y + s * e.brow_tilt * 0.5)
        middle = ((inner[0] + outer[0]) / 2, (inner[1] + outer[1]) / 2 - 1 - s * max(e.brow_raise, 0) * 0.25)
        points = np.array([p(*inner), p(*middle), p(*outer)], dtype=np.int32)
        cv2.polylines(canvas, [points], False, dark, t(u(2.5, 3.5)), aa, _SHIFT)

    nose_y = cy + 5 + u(-1, 1)
    cv2.line(canvas, p(cx, eye_y + 2), p(cx + u(-1, 1), nose_y), dark, t(1), aa, _SHIFT)
    if e.wrinkle and s > 0.6:
        for sign in (-1, 1):
            cv2.line(canvas, p(cx + sign * 3, eye_y + 1), p(cx + sign * 5, eye_y + 4), dark, t(1), aa, _SHIFT)

    mouth_y = cy + 17 + u(-1.5, 1.5)
    half = u(9, 12) + s * e.mouth_width
    curve = s * e.mouth_curve + u(-1, 1)
    opening = s * e.mouth_open
    xs = np.linspace(-1, 1, 13)
    lift = np.where(xs * side_sign > 0, xs**2, 0) * s * e.asymmetry  # sneer: one corner pulled up
    upper = np.stack([cx + xs * half, mouth_y + curve * xs**2 - lift - opening * 0.3 * (1 - xs**2)], axis=1)
    lower = np.stack([cx + xs * half, mouth_y + curve * xs**2 - lift + opening * (1 - xs**2)], axis=1)
    to_px = lambda pts: np.round(pts * (k * _ONE)).astype(np.int32)  # noqa: E731
    if opening > 1.0:
        cv2.fillPoly(canvas, [np.concatenate([to_px(upper), to_px(lower[::-1])])], dark, aa, _SHIFT)
    else:
        cv2.polylines(canvas, [to_px(upper)], False, dark, t(u(2.5, 3.5)), aa, _SHIFT)
