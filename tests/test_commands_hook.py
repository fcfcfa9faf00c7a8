"""Commands as hooks (issue #19): ``emokit``'s commands are the registry's command records, emokit's own
from ``plugins/commands.py`` like a third party's; a broken command plugin is skipped with a warning and
a built-in name wins; ``emokit --help`` imports no command's module."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from emokit.hookspecs import KINDS
from emokit.records import LazyImport
from emokit.registry import build_registry
from emokit.testing.local import check_command
from plugin_utils import PLUGINS, install_entry_point, run_emokit

BUILT_IN_COMMANDS = ["demo", "describe", "evaluate", "export", "plugins", "predict", "runs", "sweep", "train"]


@pytest.fixture
def site(tmp_path) -> Path:
    return tmp_path / "site-packages"


def load_test_plugin(monkeypatch: pytest.MonkeyPatch, name: str) -> ModuleType:
    monkeypatch.syspath_prepend(str(PLUGINS))
    return importlib.import_module(name)


def help_panels(stdout: str) -> dict[str, str]:
    """The panels of rich ``--help`` output, by title."""
    return {part.split("─", 1)[0].strip(): part for part in stdout.split("╭─")[1:]}


def test_built_in_commands_come_from_the_commands_plugin_and_import_by_name():
    registry = build_registry()
    assert registry.names("command") == BUILT_IN_COMMANDS
    for name, record in registry.records("command").items():
        assert registry.provider("command", name).name == "commands"
        assert isinstance(record.function, LazyImport), f"{name} would be imported by `emokit --help`"
        assert check_command(record, "commands").passed, name


def test_help_imports_no_command_module_and_no_heavy_library():
    code = ("import sys\nfrom emokit.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('emokit.cli.')))\n"
            "print(sorted(m for m in ('keras', 'torch', 'tensorflow', 'jax', 'onnxruntime', 'gradio') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    cli_modules, heavy = proc.stdout.strip().splitlines()[-2:]
    assert cli_modules == "['emokit.cli.commands_group', 'emokit.cli.common']"
    assert heavy == "[]"


def test_a_plugin_command_and_sub_group_are_listed_apart_and_run(site):
    install_entry_point(site, "emokit-cmd", "cmd", "plugin_command")
    proc = run_emokit(site, "--help")
    assert proc.returncode == 0, proc.stderr
    panels = help_panels(proc.stdout)
    assert "hello-test" in panels["Commands from plugins"] and "Greet someone (test plugin)" in panels["Commands from plugins"]
    assert "tools-test" in panels["Commands from plugins"]
    assert all(name in panels["Commands"] for name in BUILT_IN_COMMANDS) and "hello-test" not in panels["Commands"]
    greeted = run_emokit(site, "hello-test", "Ada")
    assert greeted.returncode == 0, greeted.stderr
    assert "Hello, Ada!" in greeted.stdout and "0 architectures" not in greeted.stdout, "the command gets emokit's registry"
    counted = run_emokit(site, "tools-test", "count", "--to", "4")
    assert counted.returncode == 0 and counted.stdout.split() == ["1", "2", "3", "4"], counted.stderr


def test_broken_command_plugins_are_skipped_with_one_warning_each_and_built_in_names_win(site):
    install_entry_point(site, "emokit-faults", "faults", "plugin_command_faults")
    install_entry_point(site, "emokit-raises", "raises", "plugin_command_raises")
    proc = run_emokit(site, "--help")
    assert proc.returncode == 0, proc.stderr
    warnings = " ".join(proc.stderr.split()).split("Warning: ")[1:]
    assert len(warnings) == 2, proc.stderr
    assert any(w.startswith("plugin 'raises' is skipped: emokit_commands() raised RuntimeError: the command table is missing")
               for w in warnings), warnings
    assert any(w.startswith("plugin 'faults' is skipped: only its command 'train' (its other records are loaded): "
                            "plugin 'commands' (emokit) provides one of that name") for w in warnings), warnings
    assert "missing-test" in help_panels(proc.stdout)["Commands from plugins"], "listing imports nothing"

    train = run_emokit(site, "train", "--help")
    assert train.returncode == 0 and "--arch" in train.stdout and train.stderr.count("Warning:") == 2

    missing = run_emokit(site, "missing-test")
    assert missing.returncode == 2
    (error,) = [line for line in missing.stderr.splitlines() if line.startswith("Error:")]
    assert error == ("Error: The command 'missing-test' of plugin 'faults' (emokit-faults) cannot be built: "
                     "ModuleNotFoundError: No module named 'emokit_test_no_such_module'")


def test_pluggy_hookimpl_options_work_because_hooks_are_called_through_the_manager(monkeypatch):
    registry = build_registry([("specname", load_test_plugin(monkeypatch, "plugin_specname"))], use_entry_points=False, blocked=())
    assert registry.failures == () and registry.names("command") == ["ping-test", "pong-test"]


def test_command_kind_is_in_the_one_table_of_kinds(monkeypatch):
    assert KINDS["command"].hook == "emokit_commands"
    registry = build_registry([("cmd", load_test_plugin(monkeypatch, "plugin_command"))], use_entry_points=False, blocked=())
    assert registry.names("command") == ["hello-test", "tools-test"]
