"""A random gamma augmentation: a custom Keras layer, defined only once Keras has been imported."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any


def gamma(keras: Any, max_gamma: float = 1.5) -> list[Any]:
    """Raise pixels (as 0-1) to a random power in [1/max_gamma, max_gamma]: darker or lighter mid-tones.

    Black stays black and white stays white, so faces keep their contrast edges.
    """
    if max_gamma < 1:
        raise ValueError(f"max_gamma must be at least 1, got {max_gamma}")
    return [_random_gamma_class(keras)(max_gamma)]


@lru_cache(maxsize=None)
def _random_gamma_class(keras: Any) -> type:
    """The layer class, created for the ``keras`` module emokit passes in (one class per process).

    A class statement at module level would need ``import keras`` at import time, which would
    fix the backend before emokit chooses it; building the class here avoids that.
    """

    class RandomGamma(keras.layers.Layer):
        """Per-image random gamma on raw 0-255 pixels; the identity when not training."""

        def __init__(self, max_gamma: float, seed: int | None = None, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.max_gamma = float(max_gamma)
            self.seed_generator = keras.random.SeedGenerator(seed)

        def call(self, images: Any, training: bool = False) -> Any:
            if not training:
                return images
            ops = keras.ops
            log_max = math.log(self.max_gamma)
            # One exponent per image, drawn uniformly in log space so darker and lighter are equally likely.
            shape = (ops.shape(images)[0], 1, 1, 1)
            exponent = ops.exp(keras.random.uniform(shape, -log_max, log_max, seed=self.seed_generator))
            return ops.power(ops.clip(images / 255.0, 0.0, 1.0), exponent) * 255.0

        def compute_output_shape(self, input_shape: Any) -> Any:
            return input_shape

        def get_config(self) -> dict[str, Any]:
            return {**super().get_config(), "max_gamma": self.max_gamma}

    return RandomGamma
