"""One source for training settings (issue #19): the CLI's defaults are TrainConfig's, not retyped."""

from __future__ import annotations

import dataclasses
import inspect

from emokit.cli.train import SYNTHETIC_EPOCHS, train_command
from emokit.training.config import TrainConfig

#: Flags whose CLI default differs from TrainConfig's on purpose, and why.
DIFFERENT_ON_PURPOSE = {
    "epochs": "None: TrainConfig's 30 with data, SYNTHETIC_EPOCHS on the built-in synthetic faces",
}


def test_every_train_flag_defaults_to_train_config():
    fields = {field.name: field for field in dataclasses.fields(TrainConfig)}
    config = TrainConfig()
    checked = []
    for name, parameter in inspect.signature(train_command).parameters.items():
        if name not in fields or name in DIFFERENT_ON_PURPOSE:
            continue
        assert parameter.default.default == getattr(config, name), f"--{name.replace('_', '-')}"
        checked.append(name)
    assert {"arch", "batch_size", "lr", "optimizer", "schedule", "patience", "seed", "image_size", "channels"} <= set(checked)


def test_epochs_default_is_said_in_the_help_as_it_is():
    help_text = inspect.signature(train_command).parameters["epochs"].default.help
    assert f"default: {TrainConfig().epochs}; {SYNTHETIC_EPOCHS} on the built-in synthetic set" in help_text
