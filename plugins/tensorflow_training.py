"""What the tensorflow backend changes to train faster: a fused batch norm layer (``training_layer``)
and a ``tf.data`` pipeline without autotuning for ``model.fit`` (``fit_data``).

Batch norm: Keras 3's ``BatchNormalization`` differentiates separate reductions and elementwise ops
(``plugins/fused_batch_norm.py``); TensorFlow has one fused kernel for all of that (``FusedBatchNormV3``,
oneDNN-accelerated on x86) with a fused gradient. mini_xception, whose steps are mostly batch norm on
large, thin feature maps, trains 1.4-1.65x faster with it, small_cnn 1.25x (docs/benchmarks.md).

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
from typing import TYPE_CHECKING, Any

from emokit.spec import Node

from .fused_batch_norm import fused_batch_norm_layer

if TYPE_CHECKING:  # numpy only for annotations: `emokit --help` imports this module
    import numpy as np


def training_layer(keras: Any, node: Node, layer_kwargs: Mapping[str, Any]) -> Any:
    """The fused batch norm for :class:`~emokit.spec.BatchNorm` nodes; ``None`` (Keras's layer) for the rest."""
    return fused_batch_norm_layer(keras, node, layer_kwargs, _fused_batch_norm)


def _fused_batch_norm(x: Any, gamma: Any, beta: Any, epsilon: float) -> tuple[Any, Any, Any]:
    """TensorFlow's ``FusedBatchNormV3`` in training mode: output, batch mean, biased batch variance."""
    import tensorflow as tf  # noqa: PLC0415 - only once the tensorflow backend is active

    y, mean, variance, *_ = tf.raw_ops.FusedBatchNormV3(
        x=x, scale=gamma, offset=beta, mean=tf.constant([], tf.float32), variance=tf.constant([], tf.float32),
        epsilon=epsilon, exponential_avg_factor=1.0, data_format="NHWC", is_training=True)
    # The fused op reports the unbiased (n - 1) batch variance; Keras keeps the biased one.
    shape = tf.shape(x)
    count = tf.cast(shape[0] * shape[1] * shape[2], tf.float32)
    return y, mean, variance * (count - 1.0) / count


def fit_data(images: np.ndarray, labels: np.ndarray, batch_size: int, shuffle: bool, seed: int) -> Any:
    """A ``tf.data.Dataset`` of ``(images, labels)`` batches for ``model.fit``, in a fresh order every
    epoch if ``shuffle``, with tf.data's autotuning off (see the module docstring).

    A shuffled dataset has an ``epoch`` attribute, a ``tf.Variable``: each pass over the data feeds the
    order of ``(seed, epoch)`` and then adds one to it. The trainer sets it at each epoch's start, so a
    run resumed in a new process feeds the batches of the run never stopped; left alone, it counts the
    passes, and every pass is reshuffled.
    """
    import tensorflow as tf  # noqa: PLC0415 - only once the tensorflow backend is active

    images, labels = tf.constant(images), tf.constant(labels)
    if shuffle:
        # Not ``Dataset.shuffle(seed=seed, reshuffle_each_iteration=True)``: its order depends on how many
        # times this process has iterated it, which restarts at 0 on resume (issue #18). A stateless
        # shuffle keyed by (seed, epoch) is the same in every process, and as fast (a 28,709-image pass:
        # 0.42-0.49 s either way). The variable (set by the trainer, see the docstring) is the simplest
        # way to tell a tf.data pipeline the epoch: Keras gives a dataset nothing but a new iterator.
        with tf.device("/cpu:0"):  # tf.data runs on the CPU and reads the variable there
            epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="data_epoch")
        key = tf.constant(seed, tf.int64)
        passes = tf.data.Dataset.from_tensors(key).map(lambda key: tf.stack([key, epoch.assign_add(1) - 1]))
        order = passes.flat_map(lambda pass_key: tf.data.Dataset.from_tensor_slices(
            tf.random.experimental.stateless_shuffle(tf.range(len(labels), dtype=tf.int64), seed=pass_key)))
    else:
        order = tf.data.Dataset.range(len(labels))
    # Batches of indices, then one gather per batch: far less per-element work than slicing each image.
    batches = order.batch(batch_size).map(lambda index: (tf.gather(images, index), tf.gather(labels, index)))
    options = tf.data.Options()
    options.autotune.enabled = False
    dataset = batches.prefetch(1).with_options(options)
    if shuffle:
        dataset.epoch = epoch
    return dataset
