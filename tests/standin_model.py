"""The stand-in for emokit's bundled ``fer2013`` model: the tiny synthetic ``trained_run`` exported the way
the real model is (``emokit export RUN --format litert --int8``) and bundled with
``python -m emokit.inference.bundled``'s function into a folder that ``tests/plugins/plugin_standin_model.py``
serves as the bundled model ``standin`` (the default model, with the built-in ``models`` plugin blocked).

Everything the real model goes through is exercised: the record, the SHA-256 check, the sidecar, the
LiteRT runtime, the default choice. Only the weights differ (they never saw a real face).
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

from cli_utils import emokit_process
from emokit.inference.bundled import write_bundle
from emokit.runs import Run

PLUGINS = Path(__file__).with_name("plugins")
if str(PLUGINS) not in sys.path:
    sys.path.insert(0, str(PLUGINS))

import plugin_standin_model  # noqa: E402

#: Converting to LiteRT needs TensorFlow; running it, ai-edge-litert.
NEEDS = ("tensorflow", "ai_edge_litert")
MISSING = [m for m in NEEDS if importlib.util.find_spec(m) is None]
SKIP_REASON = "the stand-in is exported through TensorFlow and runs on ai-edge-litert: pip install 'emokit[tensorflow]'"
NAME = plugin_standin_model.NAME
FOLDER_ENV = plugin_standin_model.FOLDER_ENV
#: The built-in plugin whose fer2013 would otherwise be the default model once its file is added.
BUILT_IN_MODELS = "models"


def make_standin(trained_run: Run, folder: Path) -> Path:
    """Export a copy of ``trained_run`` to LiteRT int8 (in a subprocess: the export needs the TensorFlow
    backend), bundle it into ``folder`` and write the record facts the plugin reads; returns ``folder``."""
    if MISSING:
        pytest.skip(SKIP_REASON)
    run = Run(shutil.copytree(trained_run.path, folder / "run" / trained_run.name,
                              ignore=shutil.ignore_patterns("checkpoint")))
    done = emokit_process("export", str(run.path), "--format", "litert", "--int8", timeout=600)
    assert done.returncode == 0, done.stderr
    digest = write_bundle(run, folder / f"{NAME}.tflite")
    test = (run.metrics().get("splits") or {}).get("test") or {}
    accuracy = {"synthetic test": test["accuracy"]} if "accuracy" in test else {}
    (folder / "record.json").write_text(json.dumps({"sha256": digest, "accuracy": accuracy}))
    return folder


def standin_registry(folder: Path, monkeypatch: pytest.MonkeyPatch):
    """A registry with the stand-in as the bundled default model (emokit's own blocked)."""
    from emokit.registry import build_registry

    monkeypatch.setenv(FOLDER_ENV, str(folder))
    return build_registry([(NAME, plugin_standin_model)], blocked=(BUILT_IN_MODELS,))


def install_standin(site: Path) -> None:
    """Make the stand-in plugin an installed distribution for subprocesses that see ``site``."""
    from plugin_utils import install_entry_point

    install_entry_point(site, "emokit-standin-model", NAME, "plugin_standin_model")


def standin_environment(folder: Path) -> dict[str, str]:
    """What a subprocess needs to serve the stand-in as the default model."""
    return {FOLDER_ENV: str(folder), "EMOKIT_BLOCK_PLUGINS": BUILT_IN_MODELS}
