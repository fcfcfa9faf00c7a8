"""Class probabilities from an in-memory Keras model, in bounded chunks: what training's evaluation and the
``keras`` runtime share.

Direct model calls, not ``model.predict``: its per-call data-adapter overhead costs tens of
milliseconds, which a single webcam frame cannot afford.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

#: Faces per model call when a large batch (an evaluation split) is classified: bounded memory.
CHUNK = 256


def in_chunks(images: np.ndarray, classes: int, classify: Callable[[np.ndarray], np.ndarray],
              size: int = CHUNK) -> np.ndarray:
    """``classify`` over ``images`` in chunks of at most ``size``, as one float32 array; no images give an
    empty (0, classes) array."""
    if len(images) == 0:
        return np.zeros((0, classes), dtype=np.float32)
    return np.concatenate([classify(images[i:i + size]) for i in range(0, len(images), size)]).astype(np.float32)


def model_probabilities(model: Any, keras: Any, images: np.ndarray, batch_size: int = CHUNK) -> np.ndarray:
    """Class probabilities of a Keras ``model`` for uint8 images (N, H, W, C), by direct calls in chunks."""
    return in_chunks(images, model.output_shape[-1], lambda batch: keras.ops.convert_to_numpy(
        call_model(model, keras, np.asarray(batch, dtype=np.float32))), batch_size)


def call_model(model: Any, keras: Any, batch: np.ndarray) -> Any:
    """One inference call on any backend, in the backend's fastest plain way."""
    if keras.backend.backend() == "torch":
        import torch  # noqa: PLC0415 - only on the torch backend

        with torch.no_grad():  # no autograd graph at inference: faster and less memory
            return model(batch, training=False)
    # JAX and TensorFlow run a direct call eagerly, op by op; predict_on_batch uses the compiled
    # predict function (jit / tf.function) without model.predict's per-call data-adapter overhead.
    return model.predict_on_batch(batch)
