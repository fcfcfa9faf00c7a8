"""The plugin registry with real test plugins: entry-point discovery, duplicates, unknown names,
broken plugins and blocking (issue #2). Entry points are installed as pip would (``plugin_utils``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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


NEW_RECORD = '''

@dataclass(frozen=True)
class GreetingRecord:
    """A greeting. ``greet(name, **options) -> str``."""

    name: str
    summary: str
    #: Returns the greeting for ``name``.
    greet: Callable[..., str] = takes_options()
    #: Options ``greet`` accepts.
    options: Mapping[str, Any] = field(default_factory=dict)
'''

NEW_HOOKSPEC = '''

from emokit.records import GreetingRecord  # noqa: E402


@hookspec
def emokit_greetings() -> list[GreetingRecord]:
    """Return the greetings this plugin provides."""
'''

#: The third file: the code that uses the new records (here, a plugin and the checks a consumer relies on).
CONSUMER = '''
import emokit
from emokit import hookimpl
from emokit.hookspecs import KINDS, RECORD_TYPES
from emokit.records import GreetingRecord
from emokit.registry import build_registry, record_problems
from emokit.testing.contract import check_record
from emokit.testing.docgen import reference


class Greeter:
    @hookimpl
    def emokit_greetings(self):
        return [GreetingRecord("hello", "Says hello", lambda name, loud=False: f"Hello, {name}", {"loud": False})]


class Misspelled:
    @hookimpl
    def emokit_greeting(self):
        return []


registry = build_registry([("greeter", Greeter()), ("typo", Misspelled())], use_entry_points=False, blocked=())
print(emokit.__file__)
print(registry.get("greeting", "hello").greet("Ada"))
print(KINDS["greeting"].hook, RECORD_TYPES["greeting"].__name__)
print(registry.failures[0][1])
print(record_problems(GreetingRecord("x", "A greeting", "not callable"), "greeting"))
print(record_problems(GreetingRecord("x", "A greeting", lambda name: name, {"shout": True}), "greeting"))
print([r.status for r in check_record(registry.get("greeting", "hello"), "greeting")])
print("#### `GreetingRecord`" in reference() and "Returns the greeting for `name`." in reference())
'''


def test_a_new_hook_kind_needs_only_its_record_its_hookspec_and_its_consumer(tmp_path):
    """The acceptance criterion of issue #19: a copy of emokit gets a new kind in records.py and hookspecs.py
    alone; the registry, its checks, the contract kit and the field reference take it up unchanged."""
    copy = tmp_path / "emokit"
    shutil.copytree(Path(__file__).resolve().parents[1] / "emokit", copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "records.py").write_text((copy / "records.py").read_text() + NEW_RECORD)
    (copy / "hookspecs.py").write_text((copy / "hookspecs.py").read_text() + NEW_HOOKSPEC)
    proc = subprocess.run([sys.executable, "-c", CONSUMER], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path)},
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    where, greeted, kind, misspelled, not_callable, bad_option, checks, documented = proc.stdout.strip().splitlines()
    assert Path(where).is_relative_to(tmp_path), "the copy, not the checkout, was imported"
    assert greeted == "Hello, Ada"
    assert kind == "emokit_greetings GreetingRecord"
    assert misspelled.startswith("unknown hook 'emokit_greeting'. Did you mean 'emokit_greetings'?")
    assert not_callable == "[\"GreetingRecord 'x': field 'greet' is not callable (got str).\"]"
    assert "option 'shout' is not a keyword argument of greet()" in bad_option
    assert checks == "['pass']"
    assert documented == "True"
