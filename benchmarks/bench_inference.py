"""Per-face inference latency of every runtime: Keras on each backend, LiteRT and ONNX; one face, a frame's four, 64.

Each runtime is opened with ``emokit.inference.runtimes.open_runtime`` and timed through
``Runtime.probabilities(images)``, what ``emokit predict``, ``evaluate``, the demo and the Python API
call: ``keras`` (a direct model call; traced graphs for small batches on torch) on each backend, and
the run's exports through their runtimes: ONNX (``emokit export --format onnx``, exported in the torch
worker, run by onnxruntime on one thread) and LiteRT (``--format litert``, exported in the TensorFlow
worker, run by ai-edge-litert on one thread). Models are built from the specs with fresh weights
(latency does not depend on weight values); inputs are random uint8 48x48x1 faces. Each backend runs
in its own process with the thread settings the demo uses (``emokit.inference.threads``) unless
``--no-demo-threads``. From the repository root:

    python benchmarks/bench_inference.py                       # all backends and runtimes, both archs
    python benchmarks/bench_inference.py --tta none --tta ten-crop   # also the cost of test-time augmentation
    EMOKIT_BENCH_FAST=1 python benchmarks/bench_inference.py   # few calls (CI)

Writes ``.benchmarks/bench_inference.json``. The ``fer`` peer is measured side by side with
these runtimes by ``bench_peer.py``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from emokit.inference.tta import TTA_MODES

from common import command_line, emit, fast, fresh_run, installed_backends, run_child, time_ms, write_results

ARCHS = ("small_cnn", "mini_xception")
#: One face, a frame's four faces (the demo's busiest frames), and an evaluation-sized batch.
BATCHES = (1, 4, 64)
#: The exports each backend's worker can make: Keras converts LiteRT through TensorFlow and ONNX through torch.
EXPORTS_ON = {"torch": ("onnx",), "tensorflow": ("litert",)}


def export_runtimes(run, registry, backend: str) -> list:
    """``emokit export`` of ``run`` in each format this backend converts, opened on its runtime (if installed)."""
    from emokit.inference.exporting import export_run
    from emokit.inference.runtimes import is_installed, open_runtime

    opened = []
    for format in EXPORTS_ON.get(backend, ()):
        exporter = registry.get("exporter", format)
        if not is_installed(registry.get("runtime", exporter.runtime)):
            continue
        export_run(run, registry, format)
        opened.append(open_runtime(run, registry, exporter.runtime))
    return opened


def worker(args: argparse.Namespace) -> None:
    import numpy as np

    from emokit.backend import load_keras
    from emokit.inference.runtimes import open_runtime
    from emokit.inference.tta import with_tta
    from emokit.registry import build_registry
    from emokit.runs import Run

    if args.demo_threads:
        from emokit.inference.threads import prefer_one_math_thread

        prefer_one_math_thread()
    registry = build_registry()
    backend, keras = load_keras(registry, args.worker)
    rng = np.random.default_rng(0)
    rows = []
    scratch = tempfile.TemporaryDirectory(prefix="emokit-bench-inference-")  # removed when the worker exits
    for arch in args.arch:
        run = Run(fresh_run(Path(scratch.name, arch), arch, registry, keras))
        runtimes = [open_runtime(run, registry, "keras", backend.name), *export_runtimes(run, registry, backend.name)]
        for runtime in [with_tta(r, mode) for r in runtimes for mode in args.tta]:
            for batch in BATCHES:
                images = rng.integers(0, 256, (batch, 48, 48, 1), dtype=np.uint8)
                repeat = args.repeat if batch < 64 else max(3, args.repeat // 8)
                timing = time_ms(lambda: runtime.probabilities(images), repeat=repeat, warmup=max(2, repeat // 10))
                rows.append({"backend": backend.name, "runtime": runtime.label, "arch": arch, "batch": batch, **timing,
                             "per_image_ms": round(timing["median_ms"] / batch, 4)})
    env = {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS",
                                          "XLA_FLAGS", "ONEDNN_MAX_CPU_ISA") if os.environ.get(k)}
    emit({"rows": rows, "env": env})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", action="append", choices=("tensorflow", "torch", "jax"))
    parser.add_argument("--arch", action="append", choices=ARCHS)
    parser.add_argument("--repeat", type=int, help="single-image calls (default 300; fast 10); batches get 1/8")
    parser.add_argument("--tta", action="append", choices=TTA_MODES,
                        help="test-time augmentation mode(s) to time (repeatable; default none)")
    parser.add_argument("--no-demo-threads", dest="demo_threads", action="store_false")
    parser.add_argument("--pause", type=int, help="PID to SIGSTOP while each child measures (SIGCONT after)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.repeat = args.repeat or (10 if fast() else 300)
    args.arch = args.arch or list(ARCHS)
    args.tta = args.tta or ["none"]
    if args.worker:
        worker(args)
        return 0
    rows = []
    for backend in args.backend or installed_backends():
        child = ["--worker", backend, "--repeat", str(args.repeat), *sum((["--arch", a] for a in args.arch), []),
                 *sum((["--tta", m] for m in args.tta), [])]
        if not args.demo_threads:
            child.append("--no-demo-threads")
        result = run_child(Path(__file__), child, pause=args.pause)
        if "error" in result:
            print(f"{backend}: {result['error']}", file=sys.stderr)
            rows.append({"backend": backend, **result})
            continue
        for row in result["rows"]:
            rows.append({**row, "env": result["env"], "load_at_start": result["load_at_start"]})
            print(f"{row['runtime']:>18} {row['arch']:>13} batch {row['batch']:>2}: {row['median_ms']:.3f} ms median "
                  f"({row['per_image_ms']:.3f} ms/image, min {row['min_ms']:.3f})", flush=True)
    path = write_results("bench_inference", {"command": command_line("bench_inference.py", argv),
                                             "paused_pid": args.pause, "rows": rows}, args.out)
    print(f"-> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
