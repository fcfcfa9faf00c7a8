"""The plugin registry with real test plugins: entry-point discovery, duplicates, unknown names,
broken plugins and blocking (issue #2). Entry points are installed as pip would (``plugin_utils``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from emokit.errors import UnknownNameError
from emokit.registry import BLOCK_ENV, build_registry
from plugin_utils import PLUGINS, install_entry_point, run_emokit


@pytest.fixture
def site(tmp_path) -> Path:
    return tmp_path / "site-packages"


def test_entry_point_plugin_is_listed_with_its_package(site):
    install_entry_point(site, "emokit-good", "good", "plugin_good")
    proc = run_emokit(site, "plugins")
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if "test plugin" in line or "tiny_test_arch" in line]
    assert len(rows) == 4, proc.stdout  # architecture, augmentation, dataset, face detector
    for row in rows:
        assert " good " in row and "emokit-good" in row
    assert "small_cnn" in proc.stdout, "built-in plugins are still there"


def test_entry_point_plugin_records_are_usable_in_process(site, monkeypatch):
    install_entry_point(site, "emokit-good", "good", "plugin_good")
    monkeypatch.syspath_prepend(str(PLUGINS))
    monkeypatch.syspath_prepend(str(site))
    registry = build_registry(blocked=())
    assert registry.provider("architecture", "tiny_test_arch").package == "emokit-good"
    assert registry.provider("dataset", "test_blank").name == "good"
    spec = registry.get("architecture", "tiny_test_arch").build(input_shape=(48, 48, 1), class_names=("a", "b"))
    assert spec.name == "tiny_test_arch"


def test_two_distributions_with_the_same_plugin_name(site):
    install_entry_point(site, "emokit-good", "good", "plugin_good")
    install_entry_point(site, "emokit-other", "good", "plugin_duplicate")
    proc = run_emokit(site, "plugins")
    assert proc.returncode == 0, "a clash is a warning: the rest of emokit keeps working"
    assert "Two plugins are both named 'good' (from emokit-good and emokit-other); the one from emokit-other is skipped" in proc.stderr


def test_duplicate_record_names_across_plugins(site):
    install_entry_point(site, "emokit-dup", "dup", "plugin_duplicate")
    proc = run_emokit(site, "plugins")
    assert proc.returncode == 0
    assert ("plugin 'dup'" in proc.stderr and "only its architecture 'small_cnn' (its other records are loaded): "
            "plugin 'architectures' (emokit) provides one of that name") in " ".join(proc.stderr.split())


def test_broken_plugin_is_reported_by_name_and_skipped(site):
    install_entry_point(site, "emokit-broken", "broken", "plugin_broken_import")
    install_entry_point(site, "emokit-good", "good", "plugin_good")
    proc = run_emokit(site, "plugins")
    assert proc.returncode == 0
    warning = " ".join(proc.stderr.split())
    assert "plugin 'broken' is skipped: ImportError: plugin_broken_import needs the 'facelib' package" in warning
    assert "tiny_test_arch" in proc.stdout, "the other plugins still load"


def test_broken_plugin_in_registry_failures(site, monkeypatch):
    install_entry_point(site, "emokit-broken", "broken", "plugin_broken_import")
    monkeypatch.syspath_prepend(str(PLUGINS))
    monkeypatch.syspath_prepend(str(site))
    registry = build_registry(blocked=())
    assert [name for name, _ in registry.failures] == ["broken"]
    assert "facelib" in registry.failures[0][1]
    assert "broken" not in [p.name for p in registry.plugins]


def test_blocking_by_name_through_the_environment(site):
    install_entry_point(site, "emokit-good", "good", "plugin_good")
    install_entry_point(site, "emokit-broken", "broken", "plugin_broken_import")
    proc = run_emokit(site, "plugins", **{BLOCK_ENV: "good, broken,haar"})
    assert proc.returncode == 0
    assert "tiny_test_arch" not in proc.stdout and "haar" not in proc.stdout.split("Blocked:")[0]
    assert "Blocked: good, broken, haar" in proc.stdout
    assert "could not be loaded" not in proc.stderr, "a blocked plugin is not even imported"


def test_blocking_in_process_uses_the_environment_by_default(monkeypatch):
    monkeypatch.setenv(BLOCK_ENV, "augmentations")
    registry = build_registry()
    assert registry.names("augmentation") == []
    assert registry.blocked == ("augmentations",)
    assert "small_cnn" in registry.names("architecture")


def test_unknown_name_suggests_the_closest_and_lists_all():
    registry = build_registry(blocked=())
    with pytest.raises(UnknownNameError) as caught:
        registry.get("architecture", "smal_cnn")
    message = str(caught.value)
    assert message.startswith("Unknown architecture 'smal_cnn'. Did you mean 'small_cnn'? Available: ")
    for name in registry.names("architecture"):
        assert name in message


def test_unknown_name_on_the_command_line(site):
    proc = run_emokit(site, "train", "--arch", "lenett")
    assert proc.returncode == 2
    assert "Unknown architecture 'lenett'." in proc.stderr and "Traceback" not in proc.stderr
