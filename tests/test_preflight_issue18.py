"""Issue #18: an error from plugin code names the plugin and package in one line, before any data is loaded.

The faulty records live in ``tests/plugins/plugin_faulty_training.py``; the ``never_load`` dataset
fails the test if a training gets as far as loading data.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from rich.console import Console

from emokit.backend import load_keras
from emokit.errors import PluginError
from emokit.registry import build_registry
from emokit.training.config import TrainConfig
from emokit.training.preflight import check_augmentations, check_spec

PLUGINS = Path(__file__).with_name("plugins")
#: Where every message must point: the record's plugin and the package that installed it.
PLUGIN = "plugin 'faulty' (package (local))"


@pytest.fixture
def registry(monkeypatch):
    """The built-in plugins plus the faulty one, registered as plugin 'faulty'."""
    monkeypatch.syspath_prepend(str(PLUGINS))
    return build_registry([("faulty", importlib.import_module("plugin_faulty_training"))], blocked=())


def one_line_error(call, *args) -> str:
    with pytest.raises(PluginError) as caught:
        call(*args)
    message = str(caught.value)
    assert "\n" not in message, "plugin errors are printed as one line"
    assert PLUGIN in message, "the plugin and its package are named"
    return message


def test_spec_that_shrinks_the_image_names_the_architecture_layer_and_input_size(registry):
    message = one_line_error(check_spec, TrainConfig(arch="shrinking_net"), registry)
    assert "Architecture 'shrinking_net'" in message
    assert "48x48x1" in message and "03_conv" in message


def test_spec_check_accepts_the_built_in_architectures_at_their_smallest_size(registry):
    for arch in registry.names("architecture"):
        if arch != "shrinking_net":
            check_spec(TrainConfig(arch=arch, image_size=16), registry)


@pytest.fixture
def keras(registry):
    return load_keras(registry, "torch")[1]


def test_augmentation_whose_build_raises(registry, keras):
    config = TrainConfig(augmentations=(("broken_build", {}),))
    message = one_line_error(check_augmentations, config, registry, keras)
    assert "Augmentation 'broken_build'" in message and "ValueError: fill_mode 'mirror' is not supported" in message


def test_augmentation_whose_layer_raises(registry, keras):
    config = TrainConfig(augmentations=(("raising_call", {}),))
    message = one_line_error(check_augmentations, config, registry, keras)
    assert "Augmentation 'raising_call'" in message and "the layer's random table is empty" in message


def test_built_in_augmentations_pass(registry, keras):
    augmentations = tuple((name, {}) for name in registry.names("augmentation") if name in ("flip", "rotation", "noise"))
    check_augmentations(TrainConfig(augmentations=augmentations, channels=3, image_size=32), registry, keras)


@pytest.mark.parametrize("fault", [{"arch": "shrinking_net"}, {"augmentations": (("broken_build", {}),)},
                                   {"augmentations": (("raising_call", {}),)}])
def test_training_reports_a_faulty_plugin_before_loading_data(registry, tmp_path, fault):
    """``never_load`` raises AssertionError when loaded: the plugin error must come first."""
    from emokit.training.trainer import train

    config = TrainConfig(**{"dataset": "never_load", "backend": "torch", "epochs": 1, **fault})
    one_line_error(train, config, registry, tmp_path, None, Console(quiet=True))
    assert not any(tmp_path.iterdir()), "no run folder is left behind by a check that fails"
