"""Contract checks for emokit plugins, for plugin authors' test suites and ``emokit plugins --check``.

In a plugin's own tests::

    from emokit.testing import assert_plugin_contract

    def test_plugin_contract():
        assert_plugin_contract("my_plugin.plugin")   # every record, every installed backend

Or check single records with :func:`check_architecture`, :func:`check_augmentation`, ... which return
:class:`CheckResult` objects. What is checked:

* the plugin module imports without importing Keras (in a fresh process);
* records are well formed (type, name, summary, callables, options the callable accepts);
* architectures give specs that fit together, have one output per class and round-trip JSON,
  and build, predict probabilities and match the spec's parameter count on every installed backend;
* augmentations keep the shape and the 0-255 range, change the batch in training and are the
  identity at inference, and train one ``model.fit`` step compiled as ``emokit train`` compiles it
  (a jitted step on JAX), on every installed backend;
* datasets' ``can_open`` answers False for a missing path; face detectors detect on gray and RGB.

Each backend runs in its own process, because Keras fixes its backend when first imported.
A check that could not run is reported as skipped, with why, and is never a pass.
"""

from emokit.testing.backends import installed_backends
from emokit.testing.contract import (
    assert_plugin_contract,
    check_architecture,
    check_augmentation,
    check_backend,
    check_dataset,
    check_face_detector,
    check_plugin,
    check_record,
    check_registry,
)
from emokit.testing.imports import check_plugin_module
from emokit.testing.report import print_check_report
from emokit.testing.results import CheckResult

__all__ = [
    "CheckResult", "assert_plugin_contract", "check_architecture", "check_augmentation", "check_backend",
    "check_dataset", "check_face_detector", "check_plugin", "check_plugin_module", "check_record",
    "check_registry", "installed_backends", "print_check_report",
]
