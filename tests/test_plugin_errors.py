"""The errors a plugin author meets: each is one clear line that names the plugin and the fix.

A broken plugin is skipped, not fatal (issue #18): its error is the reason in ``Registry.failures``,
which every command prints as a one-line warning naming the plugin."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from emokit.records import BackendRecord
from emokit.registry import build_registry, record_problems

PLUGINS = Path(__file__).with_name("plugins")


@pytest.fixture(autouse=True)
def _test_plugins_importable(monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGINS))


def load_with(module_name: str, name: str = "mine", entry_points: bool = False):
    """Build a registry with one test plugin (and the built-ins when ``entry_points``)."""
    return build_registry([(name, importlib.import_module(module_name))], use_entry_points=entry_points, blocked=())


def error_for(module_name: str, name: str = "mine", entry_points: bool = False) -> str:
    """The reason the plugin ``name`` was skipped (it must have been)."""
    reasons = [reason for plugin, reason in load_with(module_name, name, entry_points).failures if plugin == name]
    assert len(reasons) == 1, "the plugin is named in exactly one failure"
    assert "\n" not in reasons[0], "plugin errors are printed as one line"
    return reasons[0]


def test_misspelled_hook_name_suggests_the_real_one():
    message = error_for("plugin_misspelled_hook")
    assert "unknown hook 'emokit_architecture'" in message
    assert "Did you mean 'emokit_architectures'?" in message
    assert "EMOKIT_BLOCK_PLUGINS=mine" in message


def test_misspelled_hook_argument_says_the_hook_takes_none():
    message = error_for("plugin_misspelled_argument")
    assert "hook emokit_architectures() takes no arguments" in message
    assert "declares 'registry'" in message


def test_hook_without_hookimpl_is_not_silently_ignored():
    message = error_for("plugin_undecorated")
    assert "emokit_augmentations() is not decorated with @emokit.hookimpl" in message


def test_record_of_the_wrong_type_says_where_it_belongs():
    message = error_for("plugin_wrong_record")
    assert "emokit_architectures() returned a AugmentationRecord, expected ArchitectureRecord" in message
    assert "belongs in emokit_augmentations()" in message


def test_hook_returning_a_single_record_asks_for_a_list():
    message = error_for("plugin_not_a_list")
    assert "emokit_architectures() must return a list of ArchitectureRecord, got ArchitectureRecord" in message


def test_record_built_without_a_required_field_names_the_field():
    message = error_for("plugin_missing_field")
    assert "emokit_architectures() raised TypeError" in message
    assert "summary" in message


def test_record_with_an_empty_summary():
    message = error_for("plugin_empty_summary")
    assert "has an empty or missing 'summary'" in message


def test_backend_hook_that_is_not_a_function():
    message = error_for("plugin_bad_backend_hooks")
    assert "BackendRecord 'npu': field 'precision_limit' must be callable or None (got str)" in message


@pytest.mark.parametrize("hook", ["training_environment", "precision_limit", "training_layer", "fit_data"])
def test_every_optional_backend_hook_must_be_a_function(hook):
    record = BackendRecord(name="npu", summary="An accelerator", module="npu", install="pip install npu",
                           **{hook: {"not": "a function"}})
    assert record_problems(record, "backend") == [
        f"BackendRecord 'npu': field '{hook}' must be callable or None (got dict)."]


def test_record_name_that_cannot_be_typed_on_the_command_line():
    message = error_for("plugin_bad_name")
    assert "AugmentationRecord 'my brightness': the name may contain only letters, digits" in message


def test_option_the_build_function_does_not_accept():
    message = error_for("plugin_bad_option")
    assert "option 'filtres' is not a keyword argument of build()" in message
    assert "Did you mean 'filters'?" in message


def test_duplicate_record_name_names_both_plugins():
    message = error_for("plugin_duplicate", entry_points=True)  # the failure is filed under 'mine'
    assert "only its architecture 'small_cnn'" in message
    assert "plugin 'architectures' (emokit)" in message and "(package (local);" in message


def test_two_records_of_one_name_from_one_plugin():
    assert "emokit_architectures() returns more than one architecture named 'tiny'." in error_for("plugin_same_name_twice")


def test_duplicate_plugin_name():
    module = importlib.import_module("plugin_good")
    registry = build_registry([("twin", module), ("twin", module)], use_entry_points=False, blocked=())
    (reason,) = [reason for plugin, reason in registry.failures if plugin == "twin"]
    assert reason.startswith("Two plugins are both named 'twin'")
    assert [p.name for p in registry.plugins] == ["twin"], "the first keeps the name"


def test_hook_that_raises_names_the_plugin_and_the_hook():
    from emokit import hookimpl

    class Broken:  # a plugin object (not a module) whose dependency is missing when the hook runs
        @hookimpl
        def emokit_datasets(self):
            raise ModuleNotFoundError("No module named 'facelib'")

    registry = build_registry([("broken", Broken())], use_entry_points=False, blocked=())
    assert registry.failures[0][0] == "broken"
    assert registry.failures[0][1].startswith("emokit_datasets() raised ModuleNotFoundError: No module named 'facelib' (package (local);")


def test_blocking_the_offending_plugin_gets_past_the_error():
    registry = build_registry([("mine", importlib.import_module("plugin_misspelled_hook"))], blocked=("mine",))
    assert "small_cnn" in registry.names("architecture")
    assert registry.blocked == ("mine",)
