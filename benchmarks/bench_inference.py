"""Inference latency through the demo's call path, per backend: one face and a batch of 64.

The call is ``Predictor.probabilities(images)``: a direct Keras model call (torch under
``no_grad``), what ``emokit predict`` and ``evaluate`` do; on TensorFlow also the run's LiteRT
export (``emokit export``) through ``LitePredictor``, what the demo serves when a run has one. Models are built
from the specs with fresh weights (latency does not depend on weight values); inputs are random
uint8 48x48x1 faces. Each backend runs in its own process with the thread settings the demo uses
(``emokit.demo.engine.INFERENCE_THREAD_ENV``) unless ``--no-demo-threads``. From the repository root:

    python benchmarks/bench_inference.py                       # all backends, both archs
    python benchmarks/bench_inference.py --tta none --tta ten-crop   # also the cost of test-time augmentation
    EMOKIT_BENCH_FAST=1 python benchmarks/bench_inference.py   # few calls (CI)

Writes ``.benchmarks/bench_inference.json``. The ``fer`` peer is measured side by side with
these paths by ``bench_peer.py``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import tempfile
from pathlib import Path

from emokit.tta import TTA_MODES

from common import command_line, emit, fast, fresh_run, installed_backends, run_child, time_ms, write_results

ARCHS = ("small_cnn", "mini_xception")


def worker(args: argparse.Namespace) -> None:
    import numpy as np

    from emokit.backend import load_keras
    from emokit.predictor import Predictor
    from emokit.registry import build_registry
    from emokit.runs import Run
    from emokit.tta import with_tta

    if args.demo_threads:
        try:
            from emokit.demo.engine import INFERENCE_THREAD_ENV
        except ImportError:  # the demo engine is optional for this benchmark
            INFERENCE_THREAD_ENV = {}
        for key, value in INFERENCE_THREAD_ENV.items():
            os.environ.setdefault(key, value)
    registry = build_registry()
    backend, keras = load_keras(registry, args.worker)
    rng = np.random.default_rng(0)
    rows = []
    scratch = tempfile.TemporaryDirectory(prefix="emokit-bench-inference-")  # removed when the worker exits
    for arch in args.arch:
        run = Run(fresh_run(Path(scratch.name, arch), arch, registry, keras))
        predictors = [Predictor(run, registry, backend.name)]
        if backend.name == "tensorflow" and importlib.util.find_spec("ai_edge_litert") is not None:
            from emokit.export import LitePredictor, export_litert

            export_litert(run, registry)  # `emokit export RUN`: what the demo serves when a run has it
            predictors.append(LitePredictor(run))
        for predictor in [with_tta(p, mode) for p in predictors for mode in args.tta]:
            for batch in (1, 64):
                images = rng.integers(0, 256, (batch, 48, 48, 1), dtype=np.uint8)
                repeat = args.repeat if batch == 1 else max(3, args.repeat // 8)
                timing = time_ms(lambda: predictor.probabilities(images), repeat=repeat, warmup=max(2, repeat // 10))
                rows.append({"backend": predictor.label, "arch": arch, "batch": batch, **timing,
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
            print(f"{row['backend']:>10} {row['arch']:>13} batch {row['batch']:>2}: {row['median_ms']:.3f} ms median "
                  f"({row['per_image_ms']:.3f} ms/image, min {row['min_ms']:.3f})", flush=True)
    path = write_results("bench_inference", {"command": command_line("bench_inference.py", argv),
                                             "paused_pid": args.pause, "rows": rows}, args.out)
    print(f"-> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
