"""An augmentation written with TensorFlow ops: fine called eagerly on every backend, and in
torch's and TensorFlow's training, but it cannot be traced into JAX's jitted train step."""

from __future__ import annotations

from typing import Any

from emokit import hookimpl
from emokit.records import AugmentationRecord


def tf_flip(keras: Any) -> list[Any]:
    """Mirror images with ``tf.image`` (not ``keras.ops``), in training only."""
    import tensorflow as tf  # noqa: PLC0415 - like Keras, imported only once a build is asked for

    class TensorFlowFlip(keras.layers.Layer):
        def call(self, images: Any, training: bool | None = None) -> Any:
            return tf.image.random_flip_left_right(images, seed=None) if training else images

        def compute_output_shape(self, input_shape: Any) -> Any:
            return input_shape

    return [TensorFlowFlip()]


@hookimpl
def emokit_augmentations() -> list[AugmentationRecord]:
    return [AugmentationRecord("tf_flip", "Flips with tf.image ops (breaks JAX's jitted training)", tf_flip)]
