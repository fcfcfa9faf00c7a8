"""The benchmark suite, once, in fast mode, so it cannot rot (CI: ``pytest benchmarks``).

Each script runs as users run it (``EMOKIT_BENCH_FAST=1 python benchmarks/X.py --out TMP``): tiny
sizes, one repeat, no ../shared data and no fer wheel needed (bench_peer skips the peer with a
message when its files are absent). The figures are not checked, only that every script finishes
and writes a well-formed results file.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parent


def run_fast(script: str, tmp_path: Path, *args: str, timeout: int = 170) -> dict:
    out = tmp_path / f"{script}.json"
    env = {**os.environ, "EMOKIT_BENCH_FAST": "1", "EMOKIT_RUNS_DIR": str(tmp_path / "runs")}
    done = subprocess.run([sys.executable, str(HERE / script), "--out", str(out), *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


def test_roofline(tmp_path):
    result = run_fast("roofline.py", tmp_path)
    assert result["peak_gflops"] > 0
    assert set(result["archs"]) == {"small_cnn", "mini_xception"}
    assert all(row["floor_s_per_epoch"] > 0 for row in result["archs"].values())


def test_bench_training(tmp_path):
    # Three backends' children, each importing its backend and tracing three models: minutes under load.
    result = run_fast("bench_training.py", tmp_path, timeout=400)
    rows = result["rows"]
    assert rows and not [r for r in rows if "error" in r], [r.get("error") for r in rows]
    variants = {(r["backend"], r["arch"], r["variant"]) for r in rows}
    assert {"emokit", "fit", "emokit_bf16"} <= {v[2] for v in variants}
    assert all(r["img_s"] > 0 for r in rows)


@pytest.mark.parametrize(("backend", "variants"), [("tensorflow", {"all", "keras_bn", "one_step", "keras_data"}),
                                                    ("torch", {"all", "keras_bn"})])
def test_bench_speedups(tmp_path, backend, variants):
    pytest.importorskip(backend)
    result = run_fast("bench_speedups.py", tmp_path, "--backend", backend)
    assert {(r["backend"], r["variant"]) for r in result["rows"]} == {(backend, v) for v in variants}
    assert all(r["img_s"] > 0 for r in result["rows"])


def test_profile_tf_step(tmp_path):
    pytest.importorskip("tensorflow")
    result = run_fast("profile_tf_step.py", tmp_path)
    assert result["img_s"] > 0 and result["threads"] >= 1
    assert {"conv", "batch norm", "depthwise conv"} <= set(result["op_share"])
    assert sum(result["op_share"].values()) == pytest.approx(1, abs=0.01)


def test_bench_inference(tmp_path):
    result = run_fast("bench_inference.py", tmp_path, "--backend", "tensorflow", "--backend", "torch",
                      "--tta", "none", "--tta", "ten-crop")
    rows = result["rows"]
    assert rows and not [r for r in rows if "error" in r]
    assert {r["batch"] for r in rows} == {1, 4, 64}
    assert {"keras+torch", "keras+torch+ten-crop", "keras+tensorflow", "keras+tensorflow+ten-crop"} <= {r["runtime"] for r in rows}


def test_bench_peer(tmp_path):
    result = run_fast("bench_peer.py", tmp_path)
    assert any(r.get("model", "").startswith("emokit") and "median_ms" in r for r in result["rows"])


def test_bench_data(tmp_path):
    result = run_fast("bench_data.py", tmp_path)
    assert result["images"] > 0 and result["cached_s"]["median"] >= 0


def test_bench_demo_load(tmp_path):
    pytest.importorskip("gradio_client")
    # A demo server started and loaded (minutes under load), then 2 x 10 requests and the upload sweep.
    result = run_fast("bench_demo_load.py", tmp_path, timeout=500)
    assert result["same_photo"]["errors"] == result["distinct_photos"]["errors"] == 0
    assert result["files_left"] == [] and result["same_photo"]["p95_ms"] >= result["same_photo"]["p50_ms"] > 0


def test_matmul_microbenchmark(benchmark):
    """pytest-benchmark's own timer on the roofline's kernel (float32 GEMM)."""
    np = pytest.importorskip("numpy")
    a = np.ones((256, 256), dtype=np.float32)
    result = benchmark(lambda: a @ a)
    assert result.shape == (256, 256)


def test_bench_media(tmp_path):
    pytest.importorskip("skimage")
    result = run_fast("bench_media.py", tmp_path, timeout=300)
    (row,) = result["rows"]
    assert "error" not in row, row.get("error")
    assert {r["batch"] for r in row["folder_detect"]} == {1, 64} and all(r["faces_per_s"] > 0 for r in row["folder_no_detect"])
    assert [v["every"] for v in row["video"]] == [1, 3] and all(v["whole_job_fps"] > 0 and v["face_ids"] >= 1 for v in row["video"])
    assert result["fer_video"] == {"skipped": "skipped (fast mode or --no-fer)"}


def test_bench_startup(tmp_path):
    """A stand-in model when none is bundled; the bundled path imports neither Keras nor a backend."""
    result = run_fast("bench_startup.py", tmp_path, timeout=600)
    assert result["bundled"]["breakdown"]["heavy_imported"] == []
    assert result["bundled"]["wall"]["median_s"] > 0 and result["keras"]["wall"]["median_s"] > 0
    assert set(result["bundled"]["breakdown"]["steps"]) >= {"emokit_import_s", "registry_s", "model_load_s",
                                                             "detection_s", "classification_s"}


def test_bench_detectors(tmp_path):
    result = run_fast("bench_detectors.py", tmp_path)
    assert result["fast"] and result["scenes"] == 12 and "| haar |" in result["table"]
    for row in result["detectors"].values():
        if "error" not in row:
            assert 0.0 <= row["at_default"]["recall"] <= 1.0 and row["median_ms"] > 0 and row["at_default"]["faces"] > 0


def test_bench_frame(tmp_path):
    result = run_fast("bench_frame.py", tmp_path, timeout=600)
    rows = result["results"]
    assert rows and not [r for r in rows if "error" in r], [r["error"] for r in rows if "error" in r]
    assert all(r["stream"]["median_ms"]["total"] > 0 for r in rows)
    exports = {name for name, needs in (("litert", ("tensorflow", "ai_edge_litert")), ("onnx", ("torch", "onnxruntime", "onnx")))
               if all(importlib.util.find_spec(m) for m in needs)}
    assert exports <= {r["backend"] for r in rows}  # the exports the demo's `auto` serves, where installed


def test_bench_sweep(tmp_path):
    pytest.importorskip("optuna")
    result = run_fast("bench_sweep.py", tmp_path, timeout=600)
    assert [row["workers"] for row in result["rows"]] == [1, 2]
    assert all(row["trials"] >= 2 and row["trials_per_hour"] > 0 for row in result["rows"])
