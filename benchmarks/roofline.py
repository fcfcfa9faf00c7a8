"""The machine's limit: measured matmul FLOP/s (numpy and torch, all cores) and each network's floor.

Training FLOPs per image = 3 x forward FLOPs (``emokit.anatomy``; forward + two backward matmuls per
layer), so the floor time per epoch is ``3 * forward * images / peak``. From the repository root:

    python benchmarks/roofline.py                       # prints and writes .benchmarks/roofline.json
    EMOKIT_BENCH_FAST=1 python benchmarks/roofline.py   # small matrices, one repeat (CI)

``bench_training.py`` imports :func:`measure_peak` and :func:`floors` to put a "% of roofline"
beside every throughput.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from common import command_line, fast, write_results

FER_TRAIN_IMAGES = 28_709
ARCHS = ("small_cnn", "mini_xception")


def _gflops(matmul, n: int, repeat: int) -> float:
    matmul()  # warm-up (thread pool start, page faults)
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        matmul()
        samples.append(time.perf_counter() - start)
    return 2 * n**3 / statistics.median(samples) / 1e9


def measure_peak(n: int | None = None, repeat: int | None = None) -> dict[str, float]:
    """float32 GEMM GFLOP/s through numpy (its BLAS) and torch, and torch's bfloat16 GEMM, on every core.

    bfloat16 is the limit for mixed-precision training: CPUs with AVX-512 BF16 (or AMX) multiply
    bfloat16 pairs at up to twice the float32 rate."""
    import numpy as np

    n = n or (512 if fast() else 2048)
    repeat = repeat or (1 if fast() else 15)
    rng = np.random.default_rng(0)
    a, b = rng.random((n, n), dtype=np.float32), rng.random((n, n), dtype=np.float32)
    out = {"n": n, "numpy_gflops": round(_gflops(lambda: a @ b, n, repeat), 1)}
    # No oneDNN ISA cap here: the machine's limit is the uncapped matmul (and setting the cap in this
    # process would leak into every child the benchmarks start).
    try:
        import torch
    except ImportError:
        return out
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    out["torch_gflops"] = round(_gflops(lambda: ta @ tb, n, repeat), 1)
    ha, hb = ta.bfloat16(), tb.bfloat16()
    out["torch_bf16_gflops"] = round(_gflops(lambda: ha @ hb, n, repeat), 1)
    out["torch_threads"] = torch.get_num_threads()
    return out


def floors(peak_gflops: float, images: int = FER_TRAIN_IMAGES) -> dict[str, dict[str, float]]:
    """Per architecture: forward and training FLOPs per image, floor s/epoch and the roofline img/s."""
    from emokit.anatomy import anatomy
    from emokit.registry import build_registry
    from emokit.specs import spec_for

    registry = build_registry()
    result = {}
    for arch in ARCHS:
        shape = anatomy(spec_for(registry, arch))
        train_flops = 3 * shape.flops
        result[arch] = {
            "params": shape.params,
            "forward_mflops": round(shape.flops / 1e6, 2),
            "train_mflops_per_image": round(train_flops / 1e6, 2),
            "roofline_img_s": round(peak_gflops * 1e9 / train_flops, 1),
            "floor_s_per_epoch": round(train_flops * images / (peak_gflops * 1e9), 1),
        }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, help="matrix size (default 2048; fast mode 512)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    peak = measure_peak(args.n)
    best = max(peak.get("numpy_gflops", 0), peak.get("torch_gflops", 0))
    record = {"command": command_line("roofline.py", argv), "peak": peak, "peak_gflops": best,
              "epoch_images": FER_TRAIN_IMAGES, "archs": floors(best)}
    path = write_results("roofline", record, args.out)
    print(f"matmul {peak['n']}x{peak['n']} float32: numpy {peak['numpy_gflops']} GFLOP/s, torch {peak.get('torch_gflops')} GFLOP/s; "
          f"bfloat16: torch {peak.get('torch_bf16_gflops')} GFLOP/s")
    for arch, row in record["archs"].items():
        print(f"{arch}: {row['forward_mflops']} MFLOP forward, {row['train_mflops_per_image']} MFLOP/image training; "
              f"floor {row['floor_s_per_epoch']} s per {FER_TRAIN_IMAGES:,}-image epoch ({row['roofline_img_s']} img/s)")
    print(f"-> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
