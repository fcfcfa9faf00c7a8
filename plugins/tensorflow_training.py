"""What the tensorflow backend changes to train faster: a fused batch norm layer (``training_layer``)
and a ``tf.data`` pipeline without autotuning for ``model.fit`` (``fit_data``).

Batch norm: Keras 3's ``BatchNormalization`` is written once for every backend: in training it computes the
batch mean and variance with separate reductions, then normalizes with elementwise ops, and
TensorFlow differentiates through each of them. TensorFlow has one fused kernel for all of that
(``FusedBatchNormV3``, oneDNN-accelerated on x86) with a fused gradient. mini_xception, whose
steps are mostly batch norm on large, thin feature maps, trains 1.4-1.65x faster with it, small_cnn
1.25x (docs/benchmarks.md). The layer below is Keras's own with only the training branch replaced, so
it has the same variables and the same inference path: runs load into the standard model.

Data: given NumPy arrays, Keras builds a ``tf.data`` pipeline with autotuning on and a new iterator
every epoch, for training and again for validation. Tearing down the old iterator waits for
tf.data's autotuning thread, which here took 5 s in many epochs, not all (py-spy: the main thread
blocked in ``RootDataset::Iterator::~Iterator``, waiting on that thread), with the CPU idle: up to
10 s of an epoch. The same batches through a pipeline with autotuning off never wait.

Neither Keras nor TensorFlow is imported at module level: Keras arrives as ``keras`` and TensorFlow
is imported inside the functions, which emokit calls only once it has chosen the backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from emokit.spec import BatchNorm, Node


def training_layer(keras: Any, node: Node, layer_kwargs: Mapping[str, Any]) -> Any:
    """The fused batch norm for :class:`~emokit.spec.BatchNorm` nodes; ``None`` (Keras's layer) for the rest."""
    if isinstance(node, BatchNorm):
        return fused_batch_norm_class(keras)(momentum=node.momentum, **layer_kwargs)
    return None


def fused_batch_norm_class(keras: Any) -> type:
    """``keras.layers.BatchNormalization`` whose training step is TensorFlow's fused kernel."""
    import tensorflow as tf  # noqa: PLC0415 - only once the tensorflow backend is active

    # Named like Keras's class on purpose: Keras files a layer's weights under its class name, so
    # this name keeps the weights file identical to the standard model's.
    class BatchNormalization(keras.layers.BatchNormalization):
        """Keras batch norm; in training, one ``FusedBatchNormV3`` op (same statistics, same updates)."""

        def call(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
            fusable = (training and self.trainable and mask is None and not self.renorm and self.center
                       and self.scale and len(inputs.shape) == 4 and self.axis in (-1, 3))
            if not fusable:
                return super().call(inputs, training=training, mask=mask)
            y, mean, variance, *_ = tf.raw_ops.FusedBatchNormV3(
                x=tf.cast(inputs, tf.float32), scale=tf.cast(self.gamma, tf.float32), offset=tf.cast(self.beta, tf.float32),
                mean=tf.constant([], tf.float32), variance=tf.constant([], tf.float32),
                epsilon=self.epsilon, exponential_avg_factor=1.0, data_format="NHWC", is_training=True)
            # The fused op reports the unbiased (n - 1) batch variance; Keras keeps the biased one.
            shape = tf.shape(inputs)
            count = tf.cast(shape[0] * shape[1] * shape[2], tf.float32)
            variance = variance * (count - 1.0) / count
            self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
            self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
            return tf.cast(y, self.compute_dtype)

    return BatchNormalization


def fit_data(images: np.ndarray, labels: np.ndarray, batch_size: int, shuffle: bool, seed: int) -> Any:
    """A ``tf.data.Dataset`` of ``(images, labels)`` batches for ``model.fit``, reshuffled every epoch
    if ``shuffle``, with tf.data's autotuning off (see the module docstring)."""
    import tensorflow as tf  # noqa: PLC0415 - only once the tensorflow backend is active

    images, labels = tf.constant(images), tf.constant(labels)
    order = tf.data.Dataset.range(len(labels))
    if shuffle:
        order = order.shuffle(len(labels), seed=seed, reshuffle_each_iteration=True)
    # Batches of indices, then one gather per batch: far less per-element work than slicing each image.
    batches = order.batch(batch_size).map(lambda index: (tf.gather(images, index), tf.gather(labels, index)))
    options = tf.data.Options()
    options.autotune.enabled = False
    return batches.prefetch(1).with_options(options)
