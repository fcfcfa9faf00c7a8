"""What the README promises about `emokit export`: converting needs TensorFlow, not ai-edge-litert."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys

import pytest

from conftest import REPO
from emokit.runs import Run

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(any(importlib.util.find_spec(m) is None for m in ("tensorflow", "torch")),
                       reason="exporting converts through TensorFlow; the reference run is torch-trained"),
]

#: Runs `emokit export` in a process where ai-edge-litert cannot be imported, as on a machine without it.
WITHOUT_LITERT = "import sys; sys.modules['ai_edge_litert'] = None; from emokit.cli import main; main(sys.argv[1:])"


def test_export_needs_tensorflow_but_not_ai_edge_litert(trained_run, tmp_path):
    run = Run(shutil.copytree(trained_run.path, tmp_path / trained_run.name, ignore=shutil.ignore_patterns("checkpoint")))
    done = subprocess.run([sys.executable, "-c", WITHOUT_LITERT, "export", str(run.path)], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "COLUMNS": "200"})
    assert done.returncode == 0, done.stderr
    assert (run.path / "model.tflite").is_file()
    export_line = next(line for line in (REPO / "README.md").read_text().splitlines() if line.startswith("emokit export"))
    assert "needs tensorflow + ai-edge-litert" not in export_line and "converting needs tensorflow" in export_line
