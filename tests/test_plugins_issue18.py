"""Issue #18, plugin authors: one broken plugin does not take the CLI down, the contract kit runs
what training runs and never passes a check it could not run, ``plugins --check NAME``."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest

from emokit.errors import UnknownNameError
from emokit.registry import build_registry
from emokit.testing import CheckResult, assert_plugin_contract, check_plugin, check_registry
from cli_utils import run_cli
from plugin_utils import BUILT_INS, PLUGINS, install_entry_point, run_emokit, table_rows


@pytest.fixture(autouse=True)
def _test_plugins_importable(monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGINS))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(PLUGINS), os.environ.get("PYTHONPATH", "")]))


@pytest.fixture
def site(tmp_path) -> Path:
    return tmp_path / "site-packages"


def plugin(module: str) -> object:
    return importlib.import_module(module)


# --- One broken plugin must not take the CLI down ----------------------------------------------

BROKEN = {  # plugin name -> (module, what its one-line warning says)
    "typo": ("plugin_misspelled_hook", "unknown hook 'emokit_architecture'. Did you mean 'emokit_architectures'?"),
    "raises": ("plugin_hook_raises", "emokit_architectures() raised RuntimeError: the model zoo at ~/.zoo is missing"),
    "blank": ("plugin_empty_summary", "has an empty or missing 'summary'"),
    "single": ("plugin_not_a_list", "must return a list of ArchitectureRecord"),
}


def test_broken_plugins_are_skipped_and_the_others_load():
    extras = [("good", plugin("plugin_good"))] + [(name, plugin(module)) for name, (module, _) in BROKEN.items()]
    registry = build_registry(extras, use_entry_points=False, blocked=())
    reasons = dict(registry.failures)
    assert sorted(reasons) == sorted(BROKEN)
    for name, (_, says) in BROKEN.items():
        assert says in reasons[name] and "\n" not in reasons[name]
    assert [p.name for p in registry.plugins] == ["good"], "a skipped plugin contributes nothing"
    assert registry.names("architecture") == ["tiny_test_arch"]
    assert "tiny" not in registry.names("architecture"), "not even the records of its other hooks"


def test_a_skipped_plugins_name_says_which_plugin_failed_and_why():
    registry = build_registry([("raises", plugin("plugin_hook_raises"))], use_entry_points=False, blocked=())
    with pytest.raises(UnknownNameError) as caught:
        registry.get("architecture", "zoo_net")
    assert "Plugins that failed to load: 'raises' (emokit_architectures() raised RuntimeError: the model zoo" in str(caught.value)


@pytest.mark.parametrize("position", ["aaa", "zzz"])
def test_a_duplicate_record_keeps_the_built_in_and_skips_the_newcomers(position):
    registry = build_registry([(position, plugin("plugin_duplicate"))], blocked=())
    assert registry.provider("architecture", "small_cnn").name == "architectures", "installing a package must not change what --arch small_cnn means"
    (reason,) = [why for name, why in registry.failures if name == position]
    assert reason.startswith("only its architecture 'small_cnn' (its other records are loaded): "
                             "plugin 'architectures' (emokit) provides one of that name, which is kept.")
    assert position in [p.name for p in registry.plugins], "the plugin's other records stay usable"


def test_two_plugins_with_one_name_keep_the_first(site, monkeypatch):
    install_entry_point(site, "emokit-good", "good", "plugin_good")
    install_entry_point(site, "emokit-other", "good", "plugin_duplicate")
    monkeypatch.syspath_prepend(str(site))
    registry = build_registry(blocked=())
    (reason,) = [why for name, why in registry.failures if name == "good"]
    assert "Two plugins are both named 'good'" in reason and "emokit-good" in reason and "emokit-other" in reason
    assert registry.provider("architecture", "small_cnn").package == "emokit"


def test_cli_lists_plugins_past_broken_ones_with_one_warning_each(site):
    for name, (module, _) in BROKEN.items():
        install_entry_point(site, f"emokit-{name}", name, module)
    install_entry_point(site, "emokit-quits", "quits", "plugin_exits_on_import")
    install_entry_point(site, "emokit-dup", "dup", "plugin_duplicate")
    install_entry_point(site, "emokit-good", "good", "plugin_good")
    proc = run_emokit(site, "plugins")
    assert proc.returncode == 0, proc.stderr
    warnings = " ".join(proc.stderr.split()).split("Warning: ")
    for name in [*BROKEN, "quits", "dup"]:
        (warning,) = [w for w in warnings if w.startswith(f"plugin '{name}'")]
        assert f"EMOKIT_BLOCK_PLUGINS={name})" in warning, "one warning per plugin, ending with how to stop loading it"
    assert any("SystemExit" in line and "'quits'" in line for line in warnings)
    assert "tiny_test_arch" in proc.stdout and "small_cnn" in proc.stdout


def test_cli_fails_only_the_command_that_needs_the_broken_plugin(site):
    install_entry_point(site, "emokit-raises", "raises", "plugin_hook_raises")
    proc = run_emokit(site, "train", "--arch", "zoo_net", "--epochs", "1")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    error = proc.stderr.splitlines()[-1]
    assert "Unknown architecture 'zoo_net'" in error and "'raises'" in error and "the model zoo" in error


def test_cli_check_shows_broken_plugins_as_fail(site):
    install_entry_point(site, "emokit-typo", "typo", "plugin_misspelled_hook")
    install_entry_point(site, "emokit-quits", "quits", "plugin_exits_on_import")
    proc = run_emokit(site, "plugins", "--check", **{"EMOKIT_BLOCK_PLUGINS": BUILT_INS})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    rows = table_rows(proc.stdout)
    assert "FAIL" in rows["typo"] and "FAIL" in rows["quits"] and "PASS" in rows["backends"], proc.stdout


# --- A name clash elsewhere must not silence the kit; a skipped check is never a pass ----------

@pytest.mark.slow  # builds and runs models on a Keras backend
def test_a_name_clash_elsewhere_does_not_skip_the_backend_checks(site, monkeypatch):
    install_entry_point(site, "emokit-dup", "dup", "plugin_duplicate")  # clashes with the built-in small_cnn
    monkeypatch.syspath_prepend(str(site))
    results = {(r.name, r.check): r for r in check_plugin("plugin_good", backends=["torch"])}
    assert results[("tiny_test_arch", "builds and predicts on torch")].status == "pass", [str(r) for r in results.values()]


def test_an_unknown_backend_is_named_and_fails_the_assertion():
    with pytest.raises(AssertionError) as caught:
        assert_plugin_contract("plugin_good", backends=["mxnet"])
    message = str(caught.value)
    assert "could not run" in message and "no backend named 'mxnet'" in message and "torch" in message
    assert "no Keras backend is installed" not in message


def test_blocked_backends_are_the_reason_given(monkeypatch):
    monkeypatch.setenv("EMOKIT_BLOCK_PLUGINS", "backends")
    skipped = [r for r in check_plugin("plugin_good") if r.status == "skip"]
    assert {r.name for r in skipped} == {"tiny_test_arch", "test_brightness"}
    assert all("no backend plugin is loaded (blocked: backends" in r.detail for r in skipped), [str(r) for r in skipped]


def test_a_skipped_check_is_not_passed():
    skipped = CheckResult("p", "augmentation", "a", "runs on torch", "skip", "why")
    assert not skipped.passed and not skipped.failed
    assert CheckResult("p", "augmentation", "a", "runs on torch", "pass").passed


def test_cli_check_with_skipped_checks_does_not_say_pass(site):
    install_entry_point(site, "emokit-good", "good", "plugin_good")
    proc = run_emokit(site, "plugins", "--check", **{"EMOKIT_BLOCK_PLUGINS": BUILT_INS + ",backends"})
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "PASS" not in table_rows(proc.stdout)["good"], proc.stdout
    assert "no backend plugin is loaded" in proc.stdout


# --- emokit plugins --check NAME ----------------------------------------------------------------

def registry_with(*plugins: str):
    return build_registry([(name, plugin(f"plugin_{name}")) for name in plugins], blocked=BUILT_INS.split(","))


def test_check_one_plugin_by_name():
    results = check_registry(registry_with("good", "bad_contract"), backends=[], only="good")
    assert {r.plugin for r in results} == {"good"}
    assert {r.name for r in results} >= {"plugin_good", "tiny_test_arch", "test_brightness", "test_blank", "test_corner"}


def test_check_one_record_by_name():
    results = check_registry(registry_with("good", "bad_contract"), backends=[], only="no_softmax")
    assert results and {(r.plugin, r.name) for r in results} == {("bad_contract", "no_softmax")}


def test_check_a_plugin_that_failed_to_load():
    registry = build_registry([("typo", plugin("plugin_misspelled_hook"))], blocked=BUILT_INS.split(","))
    assert [(r.plugin, r.check, r.status) for r in check_registry(registry, backends=[], only="typo")] == [("typo", "loads", "fail")]


def test_check_an_unknown_name_lists_the_names():
    with pytest.raises(UnknownNameError) as caught:
        check_registry(registry_with("good"), backends=[], only="tiny_test_ark")
    message = str(caught.value)
    assert "Unknown plugin or record 'tiny_test_ark'. Did you mean 'tiny_test_arch'?" in message
    for name in ("good", "backends", "torch", "test_corner"):
        assert name in message


def test_cli_check_unknown_name_fails_at_once(site):
    proc = run_emokit(site, "plugins", "--check", "nosuch")
    assert proc.returncode == 2 and "Unknown plugin or record 'nosuch'" in proc.stderr and "small_cnn" in proc.stderr


@pytest.mark.slow
def test_cli_check_name_checks_only_that_plugin(site):
    install_entry_point(site, "emokit-good", "good", "plugin_good")
    install_entry_point(site, "emokit-bad", "bad", "plugin_bad_contract")
    proc = run_emokit(site, "plugins", "--check", "good", "--backend", "torch", timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    rows = table_rows(proc.stdout.split("emokit plugin checks", 1)[1])
    assert "PASS" in rows["good"] and "bad" not in rows and "architectures" not in rows, proc.stdout


# --- The contract kit must not pass a plugin that crashes training -------------------------------

@pytest.mark.slow
def test_kit_fails_an_augmentation_that_crashes_jax_training():
    """tf.image ops run eagerly anywhere, and in torch's training, but not in JAX's jitted train step."""
    results = {(r.name, r.check): r for r in check_plugin("plugin_tf_ops_augmentation", backends=["jax", "torch"])}
    on_jax = results[("tf_flip", "trains one model.fit step on jax")]
    assert on_jax.status == "fail", [str(r) for r in results.values()]
    assert "\n" not in on_jax.detail and "model.fit() raised TracerArrayConversionError" in on_jax.detail
    assert "layers must be written with keras.ops" in on_jax.detail
    assert results[("tf_flip", "trains one model.fit step on torch")].status == "pass", "torch trains it (no jit)"
    with pytest.raises(AssertionError, match=r"augmentation 'tf_flip' - trains one model.fit step on jax: model.fit\(\) raised"):
        assert_plugin_contract("plugin_tf_ops_augmentation", backends=["jax"])


# --- Help: plain flags take no value -------------------------------------------------------------

@pytest.mark.parametrize("args", [("plugins", "--help"), ("--help",)])
def test_help_shows_flags_without_a_value(capsys, args):
    code, out, _ = run_cli(capsys, *args)
    assert code == 0 and "--help" in out
    assert "<bool>" not in out, out
