"""Run the plugin code a training needs once, on tiny inputs, before any data is loaded.

Loading FER-2013 takes about a minute; an architecture whose layers shrink the image to nothing,
or an augmentation whose ``build`` raises, should not wait for it, and should not end in a
traceback that names neither the plugin nor the package. Every error here is one line naming
the record, its plugin and its package.

How ``emokit.training.trainer.train`` uses it (in this order, before ``_load_data``)::

    spec = check_spec(config, registry)          # no Keras: the spec's structure only
    keras = activate(backend, spec)              # the placeholder classes do not change the environment
    check_augmentations(config, registry, keras)

``check_spec`` builds the spec with placeholder class names (the real ones come with the data);
only the layer shapes are checked, so the number of placeholder classes does not matter.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from emokit import FER_CLASSES
from emokit.anatomy import anatomy
from emokit.errors import EmokitError, PluginError
from emokit.plugin_errors import one_line, plugin_label
from emokit.registry import Registry
from emokit.spec import Dense, Flatten, ModelSpec
from emokit.specs import build_spec
from emokit.training.config import TrainConfig

#: Images in the batch an augmentation's layers are run on: two, so per-image randomness is exercised.
PROBE_BATCH = 2


def input_shape(config: TrainConfig) -> tuple[int, int, int]:
    """The model input a config trains: (height, width, channels)."""
    return (config.image_size, config.image_size, config.channels)


def check_spec(config: TrainConfig, registry: Registry, class_names: tuple[str, ...] = FER_CLASSES) -> ModelSpec:
    """Build the architecture's spec with the config's options and check every layer's output shape.

    Returns the spec (built with ``class_names``, placeholders until the data is loaded). Raises a
    one-line :class:`PluginError` naming the architecture, its plugin and package, the input size
    and the layer at fault when ``build`` raises or returns no spec, or a layer's output has no
    pixels left. Needs no Keras.
    """
    spec = build_spec(registry, config.arch, config.arch_options, input_shape(config), tuple(class_names))
    label = plugin_label(registry, "architecture", config.arch)
    size = "x".join(str(n) for n in input_shape(config))
    # Only shapes are checked here: a Flatten and a Dense for the placeholder classes after the last
    # layer make the output match whatever the head gives, so the real class count cannot matter.
    probe = dataclasses.replace(spec, layers=(*spec.layers, Flatten(), Dense(len(spec.class_names))))
    try:
        anatomy(probe)
    except EmokitError as exc:
        raise PluginError(f"{label} cannot take a {size} input: {exc}") from None
    return spec


def check_augmentations(config: TrainConfig, registry: Registry, keras: Any) -> None:
    """Build each augmentation of ``config`` and run its layers, as training does, on a tiny batch.

    The layers are applied to a symbolic input (as in the training model) and then, in training
    mode, to :data:`PROBE_BATCH` random images of the config's size. Any exception, a non-list
    result or a changed shape becomes a one-line :class:`PluginError` naming the augmentation,
    its plugin and package.
    """
    shape = input_shape(config)
    size = "x".join(str(n) for n in shape)
    batch = np.random.default_rng(config.seed).integers(0, 256, size=(PROBE_BATCH, *shape)).astype(np.float32)
    for name, options in config.augmentations:
        record = registry.get("augmentation", name)
        label = plugin_label(registry, "augmentation", name)
        try:
            layers = record.build(keras, **{**record.options, **options})
        except Exception as exc:  # plugin code
            raise PluginError(f"{label}: build() raised {one_line(exc)} (options {options or 'default'}).") from None
        if not isinstance(layers, (list, tuple)) or not layers:
            raise PluginError(f"{label}: build() returned {type(layers).__name__}; expected a non-empty list of Keras layers.")
        try:
            symbolic = keras.Input(shape=shape)
            for layer in layers:
                symbolic = layer(symbolic)
            images = keras.ops.convert_to_tensor(batch)
            for layer in layers:
                images = layer(images, training=True)
            out_shape = tuple(keras.ops.shape(images))
        except Exception as exc:  # plugin code
            raise PluginError(f"{label}: its layers failed on a batch of {size} images: {one_line(exc)}") from None
        if tuple(symbolic.shape[1:]) != shape or out_shape != batch.shape:
            raise PluginError(f"{label}: its layers turn {size} images into shape {out_shape[1:]}; augmentations must keep the shape.")


def check_before_data(config: TrainConfig, registry: Registry, keras: Any | None = None) -> ModelSpec:
    """:func:`check_spec`, then (given ``keras``) :func:`check_augmentations`; returns the placeholder spec."""
    spec = check_spec(config, registry)
    if keras is not None:
        check_augmentations(config, registry, keras)
    return spec
