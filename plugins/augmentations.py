"""Built-in training-time augmentations, made of Keras 3 preprocessing layers so they run on every backend.

Each ``build(keras, **options)`` gets the already-imported ``keras`` module and returns layers that
see raw 0-255 pixels and are the identity at inference (Keras random layers act only when training).
"""

from __future__ import annotations

from typing import Any

from emokit import hookimpl
from emokit.options import Option
from emokit.records import AugmentationRecord, record_for

PIXELS = (0, 255)


def _jit_on_jax(keras: Any, layers: list[Any]) -> list[Any]:
    """Let Keras compile these affine image layers into the JAX training step.

    Keras marks RandomRotation, RandomZoom and RandomTranslation ``supports_jit=False`` because
    TensorFlow's XLA has no ImageProjectiveTransformV3. Under JAX they are plain ``keras.ops`` and
    trace fine, but a single such layer makes Keras run the whole training model op by op (no
    ``jax.jit``; keras-team/keras#23229): small_cnn with rotation, flip, zoom and shift trained
    1.5x slower on this CPU, and on an H200 not one mini_xception epoch finished in 5 minutes.
    TensorFlow trains without XLA and torch without jit, so both keep Keras's setting.
    """
    if keras.backend.backend() == "jax":
        for layer in layers:
            layer.supports_jit = True
    return layers


def rotation(keras: Any, degrees: float = 10.0, fill_mode: str = "reflect") -> list[Any]:
    """Rotate by up to +/- ``degrees``."""
    return _jit_on_jax(keras, [keras.layers.RandomRotation(degrees / 360.0, fill_mode=fill_mode)])


def flip(keras: Any, mode: str = "horizontal") -> list[Any]:
    """Mirror images (faces are left-right symmetric; vertical flips would not be)."""
    return [keras.layers.RandomFlip(mode)]


def zoom(keras: Any, factor: float = 0.1, fill_mode: str = "reflect") -> list[Any]:
    """Zoom in or out by up to ``factor``."""
    return _jit_on_jax(keras, [keras.layers.RandomZoom(factor, fill_mode=fill_mode)])


def shift(keras: Any, factor: float = 0.1, fill_mode: str = "reflect") -> list[Any]:
    """Shift by up to ``factor`` of the height and width."""
    return _jit_on_jax(keras, [keras.layers.RandomTranslation(factor, factor, fill_mode=fill_mode)])


def brightness_contrast(keras: Any, brightness: float = 0.2, contrast: float = 0.2) -> list[Any]:
    """Random brightness and contrast changes, kept within 0-255."""
    return [keras.layers.RandomBrightness(brightness, value_range=PIXELS),
            keras.layers.RandomContrast(contrast, value_range=PIXELS)]


def noise(keras: Any, stddev: float = 0.03) -> list[Any]:
    """Additive Gaussian noise, ``stddev`` as a fraction of the 0-255 range, clipped back to 0-255."""
    ops = keras.ops
    # Keras's GaussianNoise accepts stddev in [0, 1] only, so add it on the 0-1 scale.
    return [keras.layers.Rescaling(1 / 255), keras.layers.GaussianNoise(stddev), keras.layers.Rescaling(255),
            keras.layers.Lambda(lambda x: ops.clip(x, *PIXELS))]


def erasing(keras: Any, probability: float = 0.5, min_area: float = 0.02, max_area: float = 0.2) -> list[Any]:
    """Random erasing (cutout): blank a random rectangle covering ``min_area``-``max_area`` of the image."""
    return [keras.layers.RandomErasing(probability, scale=(min_area, max_area), value_range=PIXELS)]



# What the augmentations' options allow (emokit checks every --aug value against these).

#: Keras's affine layers (RandomRotation, RandomZoom, RandomTranslation) accept these fill modes.
FILL_MODE = Option(choices=("reflect", "wrap", "constant", "nearest"), help="How pixels moved in from outside are filled")
#: A share of the image size; 1 would zoom or shift the face entirely out of the frame.
IMAGE_SHARE = Option(at_least=0, below=1)
#: Keras's brightness, contrast, noise and erasing factors are fractions in [0, 1].
FRACTION = Option(at_least=0, at_most=1)


@hookimpl
def emokit_augmentations() -> list[AugmentationRecord]:
    """Rotation, flip, zoom and shift, plus brightness/contrast, noise and erasing."""
    return [
        record_for(AugmentationRecord, rotation, "Random rotation (degrees)",
                   degrees=Option(at_least=0, at_most=180, help="Largest rotation either way"), fill_mode=FILL_MODE),
        record_for(AugmentationRecord, flip, "Random horizontal flip",
                   mode=Option(choices=("horizontal", "vertical", "horizontal_and_vertical"))),
        record_for(AugmentationRecord, zoom, "Random zoom in/out", factor=IMAGE_SHARE, fill_mode=FILL_MODE),
        record_for(AugmentationRecord, shift, "Random shift (translation)", factor=IMAGE_SHARE, fill_mode=FILL_MODE),
        record_for(AugmentationRecord, brightness_contrast, "Random brightness and contrast",
                   brightness=FRACTION, contrast=FRACTION),
        record_for(AugmentationRecord, noise, "Gaussian pixel noise", stddev=FRACTION),
        record_for(AugmentationRecord, erasing, "Random erasing (cutout)",
                   probability=FRACTION, min_area=FRACTION, max_area=FRACTION),
    ]
