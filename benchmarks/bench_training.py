"""Training throughput (images/s): emokit's own training path against plain ``model.fit`` on the same
backend, a plain PyTorch loop of the same network, and the machine's matmul roofline.

Variants, each with the same network, data, batch size (64), Adam 1e-3 and cross-entropy:

* ``emokit``      ``emokit.training.trainer.train`` (the code behind ``emokit train``): the spec built by
                  the architecture plugin, the backend's compile options, rich progress on a terminal
                  console (rendered to /dev/null), early stopping, reduce-LR, per-epoch checkpoints.
                  Epoch time is the ``seconds`` column of the run's history.csv (the Checkpoint callback:
                  from epoch begin to epoch end, validation included, the checkpoint write excluded).
* ``fit``         the same network written directly in Keras (no emokit import), ``model.fit`` with the
                  same compile options as emokit (TensorFlow: ``jit_compile=False``), one timing callback.
* ``fit_default`` TensorFlow only: ``model.fit`` with Keras defaults (``jit_compile="auto"`` = XLA).
* ``torch_loop``  the same network as a ``torch.nn.Module`` and a hand-written loop (Adam, CE on logits).
* ``emokit_bf16`` ``emokit`` with ``precision="mixed_bfloat16"`` (``emokit train --precision mixed_bfloat16``):
                  bfloat16 compute, float32 weights.
* ``torch_loop_bf16`` ``torch_loop`` under ``torch.autocast("cpu", dtype=torch.bfloat16)``: what a PyTorch
                  user would write for the same speed-up, so bfloat16 is compared with bfloat16.

bfloat16 rows are also set against a bfloat16 roofline (torch's bfloat16 matmul FLOP/s), since the
float32 peak is not the machine's limit for them.

emokit variants run with the environment emokit's backend plugin sets to train that architecture
(``emokit.backend.environment_for``: no oneDNN cap for any built-in model, since emokit builds a strided
1x1 convolution as a 1x1 pool then a stride-1 convolution). The plain baselines (``fit``, ``fit_default``,
``torch_loop``) of a network with a strided 1x1 convolution (mini_xception) run with oneDNN capped at
AVX2 on torch and TensorFlow, as a plain user must: without the cap both crash in its backward pass
(segfault in torch 2.13, heap corruption in TensorFlow) here; their bfloat16 loop is skipped (AVX2 has no
bfloat16 kernels). ``emokit_avx2`` is the emokit variant with the cap forced on (``--isa-cap``), to show
what the cap costs.

Data: random uint8 48x48x1 images and random labels (throughput does not depend on content), a
train split of ``--images`` and a validation split of 64 images evaluated every epoch by every
variant. The first epoch (tracing, compilation, allocator warm-up) is dropped; the figure is the
median of the remaining epochs. Every (backend, arch, variant) runs in its own process. From the
repository root:

    python benchmarks/bench_training.py                         # all backends, both archs (~10 min)
    python benchmarks/bench_training.py --pause 5620            # SIGSTOP pid 5620 while each child measures
    EMOKIT_BENCH_FAST=1 python benchmarks/bench_training.py     # small_cnn, 64 images, 2 epochs (CI)

Writes ``.benchmarks/bench_training.json``.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from common import command_line, emit, epoch_timer, fast, installed_backends, run_child, summarize, write_results

ARCHS = ("small_cnn", "mini_xception")
KERAS_VARIANTS = ("emokit", "fit", "emokit_bf16")
VARIANTS = (*KERAS_VARIANTS, "fit_default", "torch_loop", "torch_loop_bf16")

if TYPE_CHECKING:
    from emokit.registry import Registry
#: Batch size of every variant; EMOKIT_BENCH_BATCH overrides it (children inherit it).
BATCH = int(os.environ.get("EMOKIT_BENCH_BATCH", "64"))
VAL_IMAGES = 64
NUM_CLASSES = 7
TARGETS = {"overhead_max": 0.05, "vs_torch_loop_min": 1.3, "small_cnn_roofline_min": 0.75,
           "mini_xception_roofline_min": 0.25}


def random_data(images: int, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (images, 48, 48, 1), dtype=np.uint8)
    y = rng.integers(0, NUM_CLASSES, images)
    xv = rng.integers(0, 256, (VAL_IMAGES, 48, 48, 1), dtype=np.uint8)
    yv = rng.integers(0, NUM_CLASSES, VAL_IMAGES)
    return x, y, xv, yv


# ---------------------------------------------------------------- emokit's own path


def run_emokit(backend: str, arch: str, images: int, epochs: int, precision: str = "float32") -> dict:
    from rich.console import Console

    from emokit import FER_CLASSES, hookimpl
    from emokit.records import Dataset, DatasetRecord, Split
    from emokit.registry import build_registry
    from emokit.training.config import TrainConfig
    from emokit.training.trainer import train

    x, y, xv, yv = random_data(images)

    def load(request):
        return Dataset("bench_random", FER_CLASSES, {"train": Split(x, y), "val": Split(xv, yv), "test": Split(xv, yv)},
                       fingerprint=f"random-{images}", source="random uint8 (benchmark)")

    class RandomData:
        @hookimpl
        def emokit_datasets(self):
            return [DatasetRecord("bench_random", "random uint8 images for throughput benchmarks", load)]

    registry = build_registry(extra_plugins=[("bench_random", RandomData())])
    config = TrainConfig(arch=arch, dataset="bench_random", backend=backend, epochs=epochs, batch_size=BATCH,
                         patience=epochs + 1, precision=precision)
    # A terminal console, as `emokit train` in a shell: the live progress bars are rendered (to /dev/null).
    with open(os.devnull, "w") as sink, tempfile.TemporaryDirectory(prefix="emokit-bench-runs-") as root:
        console = Console(file=sink, force_terminal=True, width=120)
        started = time.perf_counter()
        run = train(config, registry, root=Path(root), console=console)
        total = time.perf_counter() - started
        with open(run.history_file) as handle:
            seconds = [float(row["seconds"]) for row in csv.DictReader(handle)]
    return {**summarize(seconds, images), "train_call_s": round(total, 2)}


# ---------------------------------------------------------------- plain Keras, no emokit


def plain_keras_model(keras, arch: str):
    """The same networks as emokit's specs, written directly in Keras (BN momentum 0.9, 'same' convs)."""
    L = keras.layers
    inputs = keras.Input((48, 48, 1))
    x = L.Rescaling(1 / 255)(inputs)

    def cbr(x, filters, stride=1):
        x = L.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False)(x)
        x = L.BatchNormalization(momentum=0.9)(x)
        return L.Activation("relu")(x)

    if arch == "small_cnn":
        x = cbr(x, 32)
        x = cbr(x, 64)
        x = L.Dropout(0.25)(L.MaxPooling2D(2)(x))
        x = L.MaxPooling2D(2)(cbr(x, 128))
        x = L.Dropout(0.25)(L.MaxPooling2D(2)(cbr(x, 128)))
        x = L.Flatten()(x)
        x = L.Activation("relu")(L.BatchNormalization(momentum=0.9)(L.Dense(1024)(x)))
        x = L.Dense(NUM_CLASSES)(L.Dropout(0.5)(x))
        outputs = L.Activation("softmax")(x)
    else:
        x = cbr(cbr(x, 8), 8)
        for f in (16, 32, 64, 128):
            body = L.SeparableConv2D(f, 3, padding="same", use_bias=False)(x)
            body = L.Activation("relu")(L.BatchNormalization(momentum=0.9)(body))
            body = L.BatchNormalization(momentum=0.9)(L.SeparableConv2D(f, 3, padding="same", use_bias=False)(body))
            body = L.MaxPooling2D(3, strides=2, padding="same")(body)
            short = L.BatchNormalization(momentum=0.9)(L.Conv2D(f, 1, strides=2, padding="same", use_bias=False)(x))
            x = L.Add()([body, short])
        x = L.GlobalAveragePooling2D()(L.Conv2D(NUM_CLASSES, 3, padding="same")(x))
        outputs = L.Activation("softmax")(x)
    return keras.Model(inputs, outputs)


def run_fit(backend: str, arch: str, images: int, epochs: int, defaults: bool = False) -> dict:
    import numpy as np

    os.environ["KERAS_BACKEND"] = backend
    import keras

    x, y, xv, yv = random_data(images)
    keras.utils.set_random_seed(0)
    model = plain_keras_model(keras, arch)
    options = {} if defaults or backend != "tensorflow" else {"jit_compile": False}
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="categorical_crossentropy", metrics=["accuracy"], **options)

    timer = epoch_timer(keras)
    eye = np.eye(NUM_CLASSES, dtype=np.float32)
    model.fit(x.astype(np.float32), eye[y], batch_size=BATCH, epochs=epochs, shuffle=True, verbose=0,
              validation_data=(xv.astype(np.float32), eye[yv]), callbacks=[timer])
    return {**summarize(timer.seconds, images), "params": model.count_params(),
            "jit_compile": str(getattr(model, "jit_compile", "?"))}


# ---------------------------------------------------------------- plain PyTorch loop


def torch_model(arch: str):
    import torch
    from torch import nn

    def cbr(cin, cout):  # Keras BN momentum 0.9 == torch momentum 0.1; Keras epsilon 1e-3
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout, eps=1e-3, momentum=0.1), nn.ReLU()]

    class Scale(nn.Module):
        def forward(self, x):
            return x * (1 / 255)

    if arch == "small_cnn":
        return nn.Sequential(
            Scale(), *cbr(1, 32), *cbr(32, 64), nn.MaxPool2d(2), nn.Dropout(0.25),
            *cbr(64, 128), nn.MaxPool2d(2), *cbr(128, 128), nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(),
            nn.Linear(6 * 6 * 128, 1024), nn.BatchNorm1d(1024, eps=1e-3, momentum=0.1), nn.ReLU(), nn.Dropout(0.5),
            nn.Linear(1024, NUM_CLASSES),
        )

    def sep(cin, cout):
        return [nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False), nn.Conv2d(cin, cout, 1, bias=False)]

    class Block(nn.Module):
        def __init__(self, cin, f):
            super().__init__()
            self.body = nn.Sequential(*sep(cin, f), nn.BatchNorm2d(f, eps=1e-3, momentum=0.1), nn.ReLU(),
                                      *sep(f, f), nn.BatchNorm2d(f, eps=1e-3, momentum=0.1), nn.MaxPool2d(3, 2, padding=1))
            self.short = nn.Sequential(nn.Conv2d(cin, f, 1, stride=2, bias=False), nn.BatchNorm2d(f, eps=1e-3, momentum=0.1))

        def forward(self, x):
            return self.body(x) + self.short(x)

    layers = [Scale(), *cbr(1, 8), *cbr(8, 8)]
    cin = 8
    for f in (16, 32, 64, 128):
        layers.append(Block(cin, f))
        cin = f
    layers += [nn.Conv2d(cin, NUM_CLASSES, 3, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return torch.nn.Sequential(*layers)


def run_torch_loop(arch: str, images: int, epochs: int, profile: bool = False, bf16: bool = False) -> dict:
    import torch

    torch.manual_seed(0)
    x, y, xv, yv = random_data(images)
    # NCHW float32, as a plain PyTorch user would prepare in-memory data.
    xt = torch.from_numpy(x).permute(0, 3, 1, 2).float().contiguous()
    yt = torch.from_numpy(y).long()
    xvt = torch.from_numpy(xv).permute(0, 3, 1, 2).float().contiguous()
    model = torch_model(arch)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    seconds = []
    for _ in range(epochs):
        started = time.perf_counter()
        model.train()
        order = torch.randperm(images)
        for start in range(0, images, BATCH):
            idx = order[start:start + BATCH]
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = loss_fn(model(xt[idx]), yt[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        model.eval()
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            model(xvt).argmax(1)
        seconds.append(time.perf_counter() - started)
    result = {**summarize(seconds, images), "params": sum(p.numel() for p in model.parameters()),
              "threads": torch.get_num_threads()}
    if profile:
        result["profile"] = profile_torch(model, optimizer, loss_fn, xt, yt, bf16)
    return result


def profile_torch(model, optimizer, loss_fn, xt, yt, bf16: bool, steps: int = 6) -> dict:
    """Where a training step's time goes: torch.profiler's top operators by self CPU time."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    model.train()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for step in range(steps):
            idx = slice(step * BATCH, (step + 1) * BATCH)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                loss = loss_fn(model(xt[idx]), yt[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    top = sorted(events, key=lambda e: e.self_cpu_time_total, reverse=True)[:12]
    return {"steps": steps, "self_cpu_ms_per_step": round(total / 1e3 / steps, 2),
            "top": [{"op": e.key, "ms_per_step": round(e.self_cpu_time_total / 1e3 / steps, 2),
                     "share": round(e.self_cpu_time_total / total, 3), "calls": e.count // steps} for e in top]}


# ---------------------------------------------------------------- worker and parent


def training_environment(backend: str, archs: list[str]) -> dict[str, str]:
    """What emokit's backend plugin sets before importing the backend to train ``archs`` (the strictest
    of them: they share one process). Only emokit's registry is imported, never Keras."""
    from emokit.backend import environment_for
    from emokit.registry import build_registry
    from emokit.specs import spec_for

    registry = build_registry()
    record = registry.get("backend", backend)
    environment: dict[str, str] = {}
    for arch in archs:
        environment.update(environment_for(record, spec_for(registry, arch)))
    return environment


def worker(args: argparse.Namespace) -> None:
    backend = args.worker
    environment = training_environment(backend, args.arch)
    if args.isa_cap:
        environment["ONEDNN_MAX_CPU_ISA"] = "AVX2"
    for key, value in environment.items():
        os.environ.setdefault(key, value)
    os.environ["KERAS_BACKEND"] = backend
    rows = []
    for arch in args.arch:
        for variant in args.variant:
            started = time.perf_counter()
            try:
                if variant in ("emokit", "emokit_bf16"):
                    precision = "mixed_bfloat16" if variant == "emokit_bf16" else "float32"
                    row = run_emokit(backend, arch, args.images, args.epochs, precision)
                elif variant in ("fit", "fit_default"):
                    row = run_fit(backend, arch, args.images, args.epochs, defaults=variant == "fit_default")
                else:
                    row = run_torch_loop(arch, args.images, args.epochs, profile=args.profile,
                                         bf16=variant == "torch_loop_bf16")
            except Exception as exc:  # noqa: BLE001 - reported in the results, not fatal to the others
                row = {"error": f"{type(exc).__name__}: {exc}"}
            name = f"{variant}_avx2" if args.isa_cap and variant.startswith("emokit") else variant
            rows.append({"backend": "torch" if variant.startswith("torch_loop") else backend, "arch": arch,
                         "variant": name, "images": args.images, "epochs": args.epochs,
                         "wall_s": round(time.perf_counter() - started, 1),
                         "onednn_max_cpu_isa": os.environ.get("ONEDNN_MAX_CPU_ISA", "(default)"), **row})
    emit({"rows": rows})


def bf16_refused(registry: Registry, backend: str, arch: str) -> bool:
    """Whether emokit refuses to train ``arch`` on ``backend`` in bfloat16, by emokit's own rule."""
    from emokit.backend import check_precision
    from emokit.errors import EmokitError
    from emokit.specs import spec_for

    try:
        check_precision(registry.get("backend", backend), spec_for(registry, arch), "mixed_bfloat16")
    except EmokitError:
        return True
    return False


def plain_cap_flags(registry: Registry, backend: str, arch: str) -> list[str]:
    """``["--isa-cap"]`` where the plain (non-emokit) network of ``arch`` needs oneDNN capped at AVX2 to train
    on ``backend``: a strided 1x1 convolution, whose oneDNN backward pass crashes here on torch and TensorFlow."""
    from emokit.spec import is_strided_pointwise, walk
    from emokit.specs import spec_for

    needs = backend != "jax" and any(map(is_strided_pointwise, walk(spec_for(registry, arch).layers)))
    return ["--isa-cap"] if needs else []


def plan(backends: list[str], is_fast: bool) -> list[tuple[str, list[str], list[str], list[str]]]:
    """(worker backend, archs, variants, extra flags) per child process."""
    from emokit.registry import build_registry

    if is_fast:  # one child per backend: imports dominate at tiny sizes
        # small_cnn only: mini_xception adds a second model build and trace per variant for no extra coverage.
        # bfloat16 on TensorFlow only, the backend it is for: the fast mode checks code paths, not speed.
        return [(b, ["small_cnn"], [v for v in KERAS_VARIANTS if v != "emokit_bf16" or b == "tensorflow"]
                 + (["torch_loop"] if b == "torch" else []), []) for b in backends]
    registry = build_registry()
    children = []
    for arch in ARCHS:
        for b in backends:
            for variant in KERAS_VARIANTS:
                if variant != "emokit_bf16" or not bf16_refused(registry, b, arch):
                    children.append((b, [arch], [variant], plain_cap_flags(registry, b, arch) if variant == "fit" else []))
        if "tensorflow" in backends:
            children.append(("tensorflow", [arch], ["fit_default"], plain_cap_flags(registry, "tensorflow", arch)))
        if "torch" in backends:
            cap = plain_cap_flags(registry, "torch", arch)
            children.append(("torch", [arch], ["torch_loop"], ["--profile", *cap]))
            if not cap:  # the plain loop of a capped network has no bfloat16 kernels
                children.append(("torch", [arch], ["torch_loop_bf16"], ["--profile"]))
    if "tensorflow" in backends:  # what the AVX2 cap would cost where emokit does not need it
        children.append(("tensorflow", ["small_cnn"], ["emokit"], ["--isa-cap"]))
    return children


def add_ratios(rows: list[dict], roofline: dict) -> list[dict]:
    def img_s(backend, arch, variant):
        return next((r.get("img_s") for r in rows if (r["backend"], r["arch"], r["variant"]) == (backend, arch, variant)), None)

    for row in rows:
        if "img_s" not in row:
            continue
        floor = roofline["archs"][row["arch"]]
        row["roofline_fraction"] = round(row["img_s"] / floor["roofline_img_s"], 3)
        if row["variant"].endswith("bf16") and "bf16_archs" in roofline:
            row["bf16_roofline_fraction"] = round(row["img_s"] / roofline["bf16_archs"][row["arch"]]["roofline_img_s"], 3)
        row["epoch_28709_s"] = round(28_709 / row["img_s"], 1)
        for loop_variant in ("torch_loop", "torch_loop_bf16"):
            loop = img_s("torch", row["arch"], loop_variant)
            if loop:
                row[f"vs_{loop_variant}"] = round(row["img_s"] / loop, 2)
        if row["variant"] == "emokit":
            fit = img_s(row["backend"], row["arch"], "fit")
            if fit:
                row["vs_plain_fit"] = round(row["img_s"] / fit, 3)
                row["overhead"] = round(1 - row["img_s"] / fit, 3)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", action="append", choices=("tensorflow", "torch", "jax"))
    parser.add_argument("--arch", action="append", choices=ARCHS)
    parser.add_argument("--variant", action="append", choices=VARIANTS)
    parser.add_argument("--images", type=int, help="train images per epoch (default 1280; fast 64)")
    parser.add_argument("--epochs", type=int, help="epochs per measurement, the first dropped (default 4; fast 2)")
    parser.add_argument("--pause", type=int, help="PID to SIGSTOP while each child measures (SIGCONT after)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--profile", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--isa-cap", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    is_fast = fast()
    args.images = args.images or (64 if is_fast else 1280)
    args.epochs = args.epochs or (2 if is_fast else 4)
    if args.worker:
        args.arch = args.arch or list(ARCHS)
        worker(args)
        return 0

    from roofline import floors, measure_peak

    from common import paused

    with paused(args.pause):
        peak = measure_peak()
    best = max(peak["numpy_gflops"], peak.get("torch_gflops", 0))
    roofline = {"peak": peak, "peak_gflops": best, "archs": floors(best)}
    if "torch_bf16_gflops" in peak:
        roofline["bf16_archs"] = floors(peak["torch_bf16_gflops"])
    backends = args.backend or installed_backends()
    children = plan(backends, is_fast)
    if args.arch:
        children = [(b, [a for a in archs if a in args.arch], v, f) for b, archs, v, f in children]
        children = [c for c in children if c[1]]
    if args.variant:
        children = [(b, a, [v for v in vs if v in args.variant], f) for b, a, vs, f in children]
        children = [c for c in children if c[2]]
    rows: list[dict] = []
    for backend, archs, variants, flags in children:
        child_args = ["--worker", backend, "--images", str(args.images), "--epochs", str(args.epochs), *flags]
        for arch in archs:
            child_args += ["--arch", arch]
        for variant in variants:
            child_args += ["--variant", variant]
        result = run_child(Path(__file__), child_args, pause=args.pause,
                           timeout=CHILD_TIMEOUT if not is_fast else 150)
        if "error" in result:
            print(f"{backend} {archs} {variants}: {result['error']}", file=sys.stderr)
            rows.append({"backend": backend, "arch": ",".join(archs), "variant": ",".join(variants), **result})
            continue
        for row in result["rows"]:
            row["load_at_start"] = result["load_at_start"]
            rows.append(row)
            shown = row.get("img_s", row.get("error"))
            print(f"{row['backend']:>10} {row['arch']:>13} {row['variant']:>17}: {shown} img/s  "
                  f"epochs {row.get('epoch_s')}", flush=True)
    add_ratios([r for r in rows if "error" not in r], roofline)
    record = {"command": command_line("bench_training.py", argv), "images": args.images, "epochs": args.epochs,
              "batch_size": BATCH, "paused_pid": args.pause, "roofline": roofline, "targets": TARGETS, "rows": rows}
    path = write_results("bench_training", record, args.out)
    print(f"-> {path}")
    return 0


CHILD_TIMEOUT = 170

if __name__ == "__main__":
    sys.exit(main())
