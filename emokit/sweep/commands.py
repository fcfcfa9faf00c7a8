"""A training's settings written back as the ``emokit train`` command that runs it (a sweep's best trial, re-runnable)."""

from __future__ import annotations

import shlex
from typing import Any

from emokit.training.config import TrainConfig

#: TrainConfig fields and their flags, in the order the command lists them (arch, data, options, augmentations first).
FLAGS = {
    "dataset": "--dataset", "backend": "--backend", "batch_size": "--batch-size", "lr": "--lr",
    "optimizer": "--optimizer", "schedule": "--schedule", "label_smoothing": "--label-smoothing",
    "precision": "--precision", "patience": "--patience", "seed": "--seed", "val_fraction": "--val-fraction",
    "image_size": "--image-size", "channels": "--channels",
}


def _value(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _pairs(options: dict[str, Any]) -> str:
    return ",".join(f"{key}={_value(value)}" for key, value in options.items())


def train_command_line(config: TrainConfig) -> str:
    """``emokit train ...`` with every setting of ``config`` that differs from the defaults (arch, data, epochs always)."""
    defaults = TrainConfig()
    parts = ["emokit", "train", "--arch", config.arch]
    if config.data:
        parts += ["--data", config.data]
    parts += ["--epochs", str(config.epochs)]  # always: its default depends on the data
    for key, value in config.arch_options.items():
        parts += ["--set", f"{key}={_value(value)}"]
    for name, options in config.augmentations:
        parts += ["--aug", f"{name}={_pairs(options)}" if options else name]
    for field, flag in FLAGS.items():
        value = getattr(config, field)
        if value is not None and value != getattr(defaults, field):
            parts += [flag, _value(value)]
    if config.class_weights:
        parts.append("--class-weights")
    return shlex.join(parts)
