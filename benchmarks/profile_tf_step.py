"""Where a TensorFlow training step's time goes: op time by kind, and how busy TensorFlow's threads are.

One child process builds the model the way ``emokit train`` does on TensorFlow (the backend's
training layers, ``fit_data``, compile options), trains one warm-up epoch of random data, one timed
epoch (``img_s``), then one epoch under TensorFlow's profiler. ``--threads INTER,INTRA`` sets
TensorFlow's inter- and intra-op thread pools first (0: TensorFlow's default). The profile (an XPlane protobuf) is read back with the
protobuf module TensorFlow ships: each op event on the ``tf_Compute`` threads counts toward its kind.
``busy`` is the op time of those threads over their number times the profiled epoch's wall time.

    python benchmarks/profile_tf_step.py [--arch mini_xception] [--images 1280] [--threads INTER,INTRA] [--pause PID]
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import time
from pathlib import Path

from common import command_line, emit, fast, random_faces, run_child, training_model, write_results

#: Op kinds, by a fragment of TensorFlow's (oneDNN) op type names; the first match wins.
KINDS = (("depthwise conv", "Depthwise"), ("batch norm", "BatchNorm"), ("conv", "Conv2D"), ("pooling", "Pool"),
         ("matmul", "MatMul"))
#: Spans of TensorFlow's executor itself (they enclose the ops) and of the profiler: not op time.
EXECUTOR_SPANS = {"Process", "Record", "StartRegion", "StopRegion"}
BATCH = 64


def kind_of(op_type: str) -> str:
    return next((kind for kind, fragment in KINDS if fragment in op_type), "other")


def worker(arch: str, images: int, threads: tuple[int, int]) -> dict:
    os.environ["KERAS_BACKEND"] = "tensorflow"

    from emokit.backend import load_keras
    from emokit.registry import build_registry

    registry = build_registry()
    _, keras = load_keras(registry, "tensorflow")
    import tensorflow as tf

    tf.config.threading.set_inter_op_parallelism_threads(threads[0])
    tf.config.threading.set_intra_op_parallelism_threads(threads[1])
    from tensorflow.tsl.profiler.protobuf import xplane_pb2

    record = registry.get("backend", "tensorflow")
    x, y = random_faces(images)
    model = training_model(registry, keras, "tensorflow", arch)
    data = record.fit_data(x, y, BATCH, True, 0)
    model.fit(data, epochs=1, verbose=0)  # tracing
    started = time.perf_counter()
    model.fit(data, epochs=1, verbose=0)
    img_s = images / (time.perf_counter() - started)
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        started = time.perf_counter()
        model.fit(data, epochs=1, verbose=0)
        wall = time.perf_counter() - started
        tf.profiler.experimental.stop()
        space = xplane_pb2.XSpace()
        space.ParseFromString(next(Path(logdir).rglob("*.xplane.pb")).read_bytes())
    seconds: collections.Counter[str] = collections.Counter()
    threads = set()
    for plane in space.planes:
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):
                continue
            threads.add(line.name)
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                op_type = name.rsplit(":", 1)[-1]  # ops are "op_name:OpType"
                if ":" in name and op_type not in EXECUTOR_SPANS:
                    seconds[kind_of(op_type)] += event.duration_ps / 1e12
    op_s = sum(seconds.values())
    return {"arch": arch, "images": images, "threads_setting": list(threads), "img_s": round(img_s, 1), "wall_s": round(wall, 3), "threads": len(threads),
            "busy": round(op_s / (max(len(threads), 1) * wall), 3),
            "op_share": {kind: round(s / op_s, 3) for kind, s in seconds.most_common()} if op_s else {}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="mini_xception", choices=("small_cnn", "mini_xception"))
    parser.add_argument("--images", type=int, help="images in the profiled epoch (default 1280; fast 64)")
    parser.add_argument("--threads", default="0,0", help="TensorFlow's inter,intra-op threads (0: default)")
    parser.add_argument("--pause", type=int, help="PID to SIGSTOP while the child measures (SIGCONT after)")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    images = args.images or (64 if fast() else 1280)
    try:
        inter, intra = (int(n) for n in args.threads.split(","))
    except ValueError:
        parser.error(f"--threads {args.threads}: expected INTER,INTRA, two whole numbers such as 1,2")
    if args.worker:
        emit(worker(args.arch, images, (inter, intra)))
        return 0
    child = ["--worker", "--arch", args.arch, "--images", str(images), "--threads", args.threads]
    result = run_child(Path(__file__), child, pause=args.pause)
    if "error" in result:
        print(result["error"], file=sys.stderr)
        return 1
    print(f"{args.arch}, threads {args.threads}: {result['img_s']} img/s unprofiled; profiled epoch "
          f"{result['wall_s']} s, {result['threads']} tf_Compute threads busy {result['busy']:.0%}")
    for kind, share in result["op_share"].items():
        print(f"  {kind:>15}: {share:6.1%} of op time")
    path = write_results(f"profile-tf-{args.arch}", {"command": command_line("profile_tf_step.py", argv), **result},
                         args.out)
    print(f"-> {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
