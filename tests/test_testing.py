"""emokit.testing, the contract checks plugin authors run, against real plugins and real Keras.

Most checks run on torch only to stay fast; one runs the example plugin on every installed backend.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from emokit.records import ArchitectureRecord
from emokit.registry import BLOCK_ENV, build_registry
from emokit.testing import (
    CheckResult,
    assert_plugin_contract,
    check_architecture,
    check_plugin,
    check_plugin_module,
    check_registry,
)
from plugin_utils import BUILT_INS, PLUGINS, install_entry_point, run_emokit, table_rows

EXAMPLE = Path(__file__).parents[1] / "plugins" / "examples" / "emokit-example-plugin"


@pytest.fixture(autouse=True)
def _importable(monkeypatch):
    """Test plugins and the example importable here and in the checks' subprocesses."""
    for folder in (PLUGINS, EXAMPLE):
        monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(PLUGINS), str(EXAMPLE), os.environ.get("PYTHONPATH", "")]))


def by_check(results: list[CheckResult]) -> dict[tuple[str, str], CheckResult]:
    return {(r.name, r.check): r for r in results}


@pytest.mark.slow  # builds and runs models on a Keras backend
def test_well_behaved_plugin_passes_every_check():
    results = check_plugin("plugin_good", backends=["torch"])
    assert all(r.status == "pass" for r in results), "\n".join(map(str, results))
    checks = by_check(results)
    assert ("plugin_good", "imports without keras") in checks
    assert ("tiny_test_arch", "spec for (64, 64, 3) with 3 classes round-trips through JSON") in checks
    assert ("tiny_test_arch", "builds and predicts on torch") in checks
    assert ("test_brightness", "acts in training only on torch") in checks
    assert ("test_blank", "can_open on a missing path") in checks
    assert ("test_corner", "create() and detect() on gray and RGB images") in checks


@pytest.mark.slow  # builds and runs models on a Keras backend
def test_keras_imported_at_module_level_fails():
    outcome = check_plugin_module("plugin_imports_keras")
    assert outcome.status == "fail"
    assert "importing plugin_imports_keras imported keras" in outcome.detail
    assert check_plugin_module("plugin_good").status == "pass"


@pytest.fixture(scope="module")
def bad_contract() -> dict[tuple[str, str], CheckResult]:
    """Checked once for the tests below (one torch process); the autouse fixture is function-scoped."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(PLUGINS))
        patch.setenv("PYTHONPATH", os.pathsep.join([str(PLUGINS), os.environ.get("PYTHONPATH", "")]))
        return by_check(check_plugin("plugin_bad_contract", backends=["torch"]))


@pytest.mark.slow  # builds and runs models on a Keras backend
def test_architecture_without_softmax_fails_on_the_backend(bad_contract):
    outcome = bad_contract[("no_softmax", "builds and predicts on torch")]
    assert outcome.status == "fail"
    assert "outputs do not sum to 1 (end the spec with Activation('softmax'))" in outcome.detail


def test_architecture_ignoring_class_names_fails_before_any_backend(bad_contract):
    outcome = bad_contract[("fixed_classes", "spec for (64, 64, 3) with 3 classes")]
    assert outcome.status == "fail"
    assert "spec.class_names is ('angry'" in outcome.detail and "expected (3,)" in outcome.detail
    assert bad_contract[("fixed_classes", "spec for (48, 48, 1) with 7 classes")].status == "pass"


def test_augmentation_that_acts_at_inference_fails(bad_contract):
    outcome = bad_contract[("always_darker", "acts in training only on torch")]
    assert outcome.status == "fail"
    assert "inference changes the images" in outcome.detail


def test_lambda_augmentation_is_skipped_with_the_reason(bad_contract):
    outcome = bad_contract[("lambda_flip", "runs on each backend")]
    assert outcome.status == "skip" and not outcome.passed, "a check that could not run is no pass"
    assert "build is not a module-level function" in outcome.detail


@pytest.mark.slow  # builds and runs models on a Keras backend
def test_assert_plugin_contract_lists_every_failure():
    with pytest.raises(AssertionError) as caught:
        assert_plugin_contract("plugin_imports_keras", backends=[])
    assert "1 plugin contract check(s) failed" in str(caught.value)
    assert "[FAIL] plugin 'plugin_imports_keras' - imports without keras" in str(caught.value)


@pytest.mark.slow  # builds and runs models on a Keras backend
def test_plugin_that_imports_keras_is_not_imported_by_the_check():
    # Importing it would import Keras in the caller's process before a backend is chosen, fixing the
    # backend for everything the caller does next (a test run's later Keras tests, for one).
    sys.modules.pop("plugin_imports_keras", None)
    results = check_plugin("plugin_imports_keras", backends=[])
    assert [(r.check, r.status) for r in results] == [("imports without keras", "fail")]
    assert "plugin_imports_keras" not in sys.modules


def test_plugin_that_does_not_load_is_one_failed_result():
    results = check_plugin("plugin_misspelled_hook", backends=[])
    failed = [r for r in results if not r.passed]
    assert [(r.check, r.plugin) for r in failed] == [("loads", "plugin_misspelled_hook")]
    assert "Did you mean 'emokit_architectures'?" in failed[0].detail


def test_malformed_record_stops_at_well_formed():
    record = ArchitectureRecord("tiny", " ", lambda input_shape, class_names: None)
    assert [(r.check, r.status) for r in check_architecture(record, backends=[])] == [("well formed", "fail")]


def test_registry_failures_are_reported_per_plugin(monkeypatch, tmp_path):
    install_entry_point(tmp_path, "emokit-broken", "broken", "plugin_broken_import")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = build_registry(blocked=tuple(BUILT_INS.split(",")))
    results = check_registry(registry, backends=[])
    assert [(r.plugin, r.check, r.status) for r in results if r.plugin == "broken"] == [("broken", "loads", "fail")]


@pytest.mark.slow  # builds and runs models on a Keras backend
def test_example_plugin_passes_on_every_installed_backend():
    results = assert_plugin_contract("emokit_example.plugin")
    backends = {r.check.rsplit(" on ", 1)[1] for r in results if r.check.startswith("builds and predicts on")}
    assert backends == {"torch", "jax", "tensorflow"}, ".ci/run installs all three backends"


def emokit_check(site: Path, *args: str) -> subprocess.CompletedProcess:
    return run_emokit(site, "plugins", "--check", *args, timeout=600, **{BLOCK_ENV: BUILT_INS})


@pytest.mark.slow  # builds and runs models on a Keras backend
def test_cli_check_prints_pass_and_fail_per_plugin(tmp_path):
    for plugin, module in (("good", "plugin_good"), ("bad", "plugin_bad_contract")):
        install_entry_point(tmp_path, f"emokit-{plugin}", plugin, module)
    proc = emokit_check(tmp_path, "--backend", "torch")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    rows = table_rows(proc.stdout.split("emokit plugin checks", 1)[1])
    assert "PASS" in rows["good"] and "PASS" in rows["backends"]
    assert "FAIL" in rows["bad"]
    assert "FAIL bad: architecture 'no_softmax' - builds and predicts on torch" in proc.stdout


def test_cli_check_rejects_an_unknown_backend_at_once(tmp_path):
    proc = emokit_check(tmp_path, "--backend", "mxnet")
    assert proc.returncode == 2
    assert "Unknown backend 'mxnet'." in proc.stderr


def test_runtime_exporter_and_command_records_get_their_own_checks():
    from emokit.records import CommandRecord, ExporterRecord, LazyImport, RuntimeRecord  # noqa: PLC0415
    from emokit.testing.contract import check_record  # noqa: PLC0415

    def open_model(model, registry):
        return None

    missing = RuntimeRecord("npu", "An accelerator runtime", open_model, module="emokit_test_npu_runtime",
                            install="pip install emokit-test-npu")
    (formed, installed) = check_record(missing, "runtime")
    assert formed.passed and installed.status == "skip"
    assert installed.detail == "'emokit_test_npu_runtime' is not installed; install it with: pip install emokit-test-npu"

    stray = ExporterRecord("npz", "Weights as .npz", lambda run, registry, target: target, runtime="npu", suffix="npz")
    (formed, linked) = check_record(stray, "exporter")
    assert formed.passed and linked.failed
    assert "its runtime 'npu' is not a registered runtime" in linked.detail and "does not start with '.'" in linked.detail

    broken = CommandRecord("gone", "A command whose module is missing", LazyImport("emokit_test_gone:command"))
    (formed, imports) = check_record(broken, "command")
    assert formed.passed and imports.failed and "No module named 'emokit_test_gone'" in imports.detail
