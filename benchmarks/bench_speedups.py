"""What each of a backend's training speed-ups is worth, one at a time (images/s).

One process per backend, the same model and random data for every variant, alternated ``--repeats``
times so drift between processes cannot favour one:

* ``all``        what ``emokit train`` does (tensorflow: fused batch norm, ``fit_data``, 8 steps per
  call; torch: fused batch norm)
* ``keras_bn``   all but the fused batch norm (Keras's own ``BatchNormalization``)
* ``one_step``   tensorflow: all but ``steps_per_execution`` (one step per ``tf.function`` call)
* ``keras_data`` tensorflow: all but ``fit_data``: the arrays go to ``model.fit``, whose ``tf.data``
  pipeline waits on its autotuning thread when an epoch's iterator is torn down (validation data included)

The first epoch of each measurement (tracing) is dropped; median of the rest.

    python benchmarks/bench_speedups.py [--backend tensorflow|torch] [--arch mini_xception] [--images 2560]
        [--epochs 5] [--repeats 2] [--pause PID]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from common import command_line, emit, epoch_timer, fast, random_faces, run_child, summarize, training_model, write_results

VARIANTS = ("all", "keras_bn", "one_step", "keras_data")
# The variants that leave out something the backend has.
VARIANTS_FOR = {"tensorflow": VARIANTS, "torch": ("all", "keras_bn")}
BATCH = 64


def worker(backend: str, arch: str, variants: list[str], images: int, epochs: int) -> dict:
    os.environ["KERAS_BACKEND"] = backend

    from emokit.backend import load_keras
    from emokit.registry import build_registry

    registry = build_registry()
    _, keras = load_keras(registry, backend)
    record = registry.get("backend", backend)
    x, y = random_faces(images)
    xv, yv = x[:64], y[:64]
    rows = []
    for variant in variants:
        keras.utils.set_random_seed(0)
        options = dict(record.compile_options)
        if variant == "one_step":
            options.pop("steps_per_execution", None)
        model = training_model(registry, keras, backend, arch, fused=variant != "keras_bn", compile_options=options)
        if variant == "keras_data" or record.fit_data is None:
            data = {"x": x, "y": y, "batch_size": BATCH, "validation_data": (xv, yv)}
        else:
            data = {"x": record.fit_data(x, y, BATCH, True, 0), "validation_data": record.fit_data(xv, yv, BATCH, False, 0)}
        timer = epoch_timer(keras)
        model.fit(**data, epochs=epochs, verbose=0, callbacks=[timer])
        rows.append({"backend": backend, "arch": arch, "variant": variant, **summarize(timer.seconds, images)})
    return {"rows": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="tensorflow", choices=tuple(VARIANTS_FOR))
    parser.add_argument("--arch", default="mini_xception", choices=("small_cnn", "mini_xception"))
    parser.add_argument("--variant", action="append", choices=VARIANTS)
    parser.add_argument("--images", type=int, help="train images per epoch (default 2560; fast 64)")
    parser.add_argument("--epochs", type=int, help="epochs per measurement, the first dropped (default 5; fast 2)")
    parser.add_argument("--repeats", type=int, help="alternations of the variants (default 2; fast 1)")
    parser.add_argument("--pause", type=int, help="PID to SIGSTOP while the child measures (SIGCONT after)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    is_fast = fast()
    images = args.images or (64 if is_fast else 2560)
    epochs = args.epochs or (2 if is_fast else 5)
    variants = args.variant or list(VARIANTS_FOR[args.backend])
    if unknown := [v for v in variants if v not in VARIANTS_FOR[args.backend]]:
        parser.error(f"--variant {unknown[0]}: the {args.backend} backend has no such speed-up "
                     f"(its variants: {', '.join(VARIANTS_FOR[args.backend])})")
    if args.worker:
        emit(worker(args.backend, args.arch, variants, images, epochs))
        return 0
    order = variants * (args.repeats or (1 if is_fast else 2))
    child = ["--worker", "--backend", args.backend, "--arch", args.arch, "--images", str(images), "--epochs", str(epochs)]
    for variant in order:
        child += ["--variant", variant]
    result = run_child(Path(__file__), child, pause=args.pause, timeout=170 if is_fast else 1200)
    if "error" in result:
        print(result["error"], file=sys.stderr)
        return 1
    for row in result["rows"]:
        print(f"{row['backend']:>10} {row['arch']:>14} {row['variant']:>10}: {row['img_s']:8.1f} img/s  epochs {row['epoch_s']}")
    path = write_results(f"speedups-{args.backend}-{args.arch}", {"command": command_line("bench_speedups.py", argv),
                                         "images": images, "epochs": epochs, **result}, args.out)
    print(f"-> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
