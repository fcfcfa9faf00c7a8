"""Runtimes as plugins: choosing one (``auto``), refusing what cannot be served, one-line errors. Nothing here
loads a model: the runs are made of files, so this stays in the fast tier (tests/test_exporters.py trains)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from emokit.artefacts import file_digest
from emokit.errors import EmokitError
from emokit.inference.export_records import EXPORT_INFO_FILE, current_exports, export_records, write_export_record
from emokit.inference.runtimes import RUNTIME_CHOICES, check_runtime, choose_runtime, open_runtime
from emokit.inference.source import model_source
from emokit.registry import build_registry
from emokit.runs import Run
from emokit.specs import spec_for


@pytest.fixture(scope="module")
def registry():
    return build_registry()


@pytest.fixture
def run(tmp_path, registry) -> Run:
    """A run folder with a real spec and a weights file (its bytes are never loaded here)."""
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "spec.json").write_text(spec_for(registry, "small_cnn").to_json())
    (folder / "model.weights.h5").write_bytes(b"weights")
    return Run(folder)


def add_export(run: Run, format: str, suffix: str, latency: float | None = None, weights: str | None = None) -> Path:
    path = run.path / f"model{suffix}"
    path.write_bytes(b"model")
    record = {"file": path.name, "weights_sha256": weights or file_digest(run.weights_file)}
    if latency is not None:
        record["latency_ms"] = latency
    write_export_record(run, format, record)
    return path


def test_the_builtin_runtimes_are_registered(registry):
    assert set(RUNTIME_CHOICES) - {"auto"} <= set(registry.names("runtime"))
    onnx = registry.get("runtime", "onnx")
    assert onnx.module == "onnxruntime" and ".onnx" in onnx.suffixes and "pip install" in onnx.install
    assert set(registry.names("exporter")) >= {"litert", "onnx"}


def test_unknown_runtime_is_one_line_listing_the_runtimes(registry):
    with pytest.raises(EmokitError, match=r"^Unknown runtime 'fast'. Available: auto, keras, litert, onnx.$"):
        check_runtime(registry, "fast")


def test_auto_serves_the_fastest_current_export_else_keras(run, registry):
    source = model_source(run)
    assert choose_runtime(source, registry) == "keras"  # no export
    add_export(run, "onnx", ".onnx", latency=0.3)
    add_export(run, "litert", ".tflite", latency=0.5)
    assert choose_runtime(source, registry) == "onnx"
    assert choose_runtime(source, registry, backend="torch") == "keras"  # a backend asked for: Keras
    add_export(run, "onnx", ".onnx", latency=0.3, weights="0" * 64)  # made from other weights: stale
    assert set(current_exports(run)) == {"litert"} and choose_runtime(source, registry) == "litert"
    (run.path / "model.tflite").unlink()
    assert choose_runtime(source, registry) == "keras"


def test_an_exported_file_picks_its_runtime_and_other_runtimes_refuse_it(run, registry):
    path = add_export(run, "onnx", ".onnx")
    source = model_source(path)
    assert source.run == run and source.file == path
    assert choose_runtime(source, registry) == "onnx"
    with pytest.raises(EmokitError, match="Runtime 'litert' does not open 'model.onnx' files; use --runtime onnx"):
        open_runtime(path, registry, "litert")


def test_a_bare_exported_file_is_opened_by_its_runtime_or_refused_in_one_line(tmp_path, registry):
    bare = tmp_path / "model.onnx"
    bare.write_bytes(b"not a model")
    source = model_source(bare)
    assert source.run is None and source.spec is None and source.file == bare
    with pytest.raises(EmokitError, match="model.onnx' is not an ONNX model") as exc:
        open_runtime(bare, registry)  # auto: the runtime of its suffix
    assert "\n" not in str(exc.value)
    if importlib.util.find_spec("ai_edge_litert") is not None:
        lite = tmp_path / "model.tflite"
        lite.write_bytes(b"not a model")
        with pytest.raises(EmokitError, match="not inside its run folder: a LiteRT export carries no classes"):
            open_runtime(lite, registry)


@pytest.mark.parametrize("runtime, title", [("onnx", "ONNX"), ("litert", "LiteRT")])
def test_missing_and_stale_exports_are_refused(run, registry, runtime, title):
    suffix = registry.get("runtime", runtime).suffixes[0]
    with pytest.raises(EmokitError, match=f"has no {title} export .*--format {runtime}` first"):
        open_runtime(run, registry, runtime)
    add_export(run, runtime, suffix, weights="0" * 64)
    with pytest.raises(EmokitError, match=f"{title} export of run .* not made from its current weights"):
        open_runtime(run, registry, runtime)


def test_records_from_before_exports_were_per_format_read_as_litert(run):
    (run.path / EXPORT_INFO_FILE).write_text(json.dumps({"format": "litert", "file": "model.tflite", "quantized": True,
                                                         "weights_sha256": file_digest(run.weights_file)}))
    (run.path / "model.tflite").write_bytes(b"model")
    assert export_records(run)["litert"]["quantized"] is True and set(current_exports(run)) == {"litert"}
    write_export_record(run, "onnx", {"file": "model.onnx", "weights_sha256": "0" * 64})  # keeps the old one
    assert set(export_records(run)) == {"litert", "onnx"}


#: Opens the onnx runtime where onnxruntime cannot be imported, as on a machine without it.
WITHOUT_ONNXRUNTIME = """
import sys
sys.modules['onnxruntime'] = None
from emokit.errors import EmokitError
from emokit.inference.runtimes import open_runtime
from emokit.registry import build_registry
try:
    open_runtime(sys.argv[1], build_registry(), 'onnx')
except EmokitError as exc:
    print(exc)
"""


def test_a_missing_runtime_library_gives_its_install_line(run):
    add_export(run, "onnx", ".onnx")
    done = subprocess.run([sys.executable, "-c", WITHOUT_ONNXRUNTIME, str(run.path)], capture_output=True, text=True,
                          timeout=120, env={**os.environ})
    assert done.stdout.strip() == ("Runtime 'onnx' needs the 'onnxruntime' package, which is not installed. "
                                   "Run: pip install 'emokit[onnx]'  (onnxruntime)"), done.stderr
