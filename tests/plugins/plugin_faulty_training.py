"""A plugin that loads fine but whose code fails when a training uses it (issue #18's plugin faults).

Each record fails in a different place: an architecture whose valid convolutions shrink a 48x48
image to nothing, an augmentation whose ``build`` raises, one whose layer raises in ``call``, one
written with TensorFlow ops (fine on TensorFlow and eager torch, fatal inside JAX's jit), and a
dataset that must never be loaded because the plugin checks should fail first.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from emokit import hookimpl
from emokit.records import ArchitectureRecord, AugmentationRecord, DataRequest, Dataset, DatasetRecord, Split, record_for
from emokit.spec import Activation, Conv, Dense, Flatten, ModelSpec

#: Classes of the tiny random dataset.
CLASSES = ("a", "b")


def shrinking_net(input_shape: tuple[int, int, int], class_names: tuple[str, ...], convs: int = 4) -> ModelSpec:
    """5x5 valid convolutions at stride 2: 48 -> 22 -> 9 -> 3 -> nothing."""
    layers = (*(Conv(4, 5, 2, "valid", activation="relu") for _ in range(convs)), Flatten(),
              Dense(len(class_names)), Activation("softmax"))
    return ModelSpec("shrinking_net", layers, input_shape, class_names, options={"convs": convs})


def broken_build(keras: Any, strength: float = 0.5) -> list[Any]:
    """Raises while building its layers, as a plugin with a typo in a Keras argument does."""
    raise ValueError(f"fill_mode 'mirror' is not supported (strength {strength})")


def raising_call(keras: Any) -> list[Any]:
    """A layer that raises whenever it runs in training mode."""

    class RaisingLayer(keras.layers.Layer):
        def call(self, images: Any, training: bool | None = None) -> Any:
            if training:
                raise RuntimeError("the layer's random table is empty")
            return images

    return [RaisingLayer()]


def tf_brightness(keras: Any, delta: float = 20.0) -> list[Any]:
    """Random brightness written with TensorFlow ops: works where tensors convert to TensorFlow, not under jax.jit."""

    class TfBrightness(keras.layers.Layer):
        def call(self, images: Any, training: bool | None = None) -> Any:
            import tensorflow as tf  # noqa: PLC0415 - the fault on purpose: TF ops inside a Keras 3 layer

            if not training:
                return images
            shift = tf.random.uniform((tf.shape(images)[0], 1, 1, 1), -delta, delta)
            return keras.ops.convert_to_tensor(np.asarray(tf.clip_by_value(images + shift, 0.0, 255.0)))

    return [TfBrightness()]


def load_random(request: DataRequest) -> Dataset:
    """32 random images per split, two classes: enough for a training step."""
    rng = np.random.default_rng(request.seed)
    h, w = request.image_size

    def split() -> Split:
        return Split(rng.integers(0, 256, (32, h, w, request.channels), dtype=np.uint8), np.arange(32) % 2)

    return Dataset("random_test", CLASSES, {"train": split(), "val": split(), "test": split()}, "random", "random")


def load_never(request: DataRequest) -> Dataset:
    """Fails the test that uses it: the plugin checks must stop the training before the data is loaded."""
    raise AssertionError("the data was loaded before the plugins were checked")


@hookimpl
def emokit_architectures() -> list[ArchitectureRecord]:
    return [record_for(ArchitectureRecord, shrinking_net, "Shrinks a 48x48 image to nothing")]


@hookimpl
def emokit_augmentations() -> list[AugmentationRecord]:
    return [
        record_for(AugmentationRecord, broken_build, "Raises in build()"),
        record_for(AugmentationRecord, raising_call, "Raises in call()"),
        record_for(AugmentationRecord, tf_brightness, "TensorFlow ops inside a layer"),
    ]


@hookimpl
def emokit_datasets() -> list[DatasetRecord]:
    return [
        DatasetRecord("random_test", "32 random images per split", load_random),
        DatasetRecord("never_load", "Must not be loaded", load_never),
    ]
