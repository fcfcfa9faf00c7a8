"""``emokit predict``: faces found in images, with per-face probabilities and the top emotion."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from emokit.cli.common import console, registry_with_warnings, usable_run


def predict_command(
    run: str = typer.Argument(..., help="Run path or name (or `latest`), or an exported model file (RUN/model.onnx, RUN/model.tflite)."),
    images: list[Path] = typer.Argument(..., help="Image files."),
    detector: str = typer.Option("haar", "--detector", metavar="NAME[=key=value,...]",
                                 help="Face detector plugin and its options, e.g. haar=scale_factor=1.2,min_neighbors=3 (`emokit plugins` lists them)."),
    no_detect: bool = typer.Option(False, "--no-detect", help="Treat each whole image as one cropped face."),
    backend: Optional[str] = typer.Option(None, "--backend"),
    runtime: str = typer.Option("keras", "--runtime", help="keras, litert or onnx (the run's `emokit export`), any runtime a plugin adds, or auto (the run's fastest current export, else keras)."),
    tta: str = typer.Option("none", "--tta", help="Test-time augmentation: none, flip or ten-crop (see `emokit evaluate --help`)."),
    runs: Optional[Path] = typer.Option(None, "--runs", help="Runs folder."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Find the faces in each image and predict each one's emotion (with the detector's score per face)."""
    from emokit.faces import parse_detector  # noqa: PLC0415
    from emokit.inference.prediction import predict_images  # noqa: PLC0415

    registry = registry_with_warnings()
    # Checked first: a mistyped option is an argument error, reported before the run is even looked up.
    choice = None if no_detect else parse_detector(registry, detector)
    found = Path(run) if Path(run).is_file() else usable_run(run, runs)
    results = predict_images(found, images, registry, detector=choice,
                             backend=backend, runtime=runtime, tta=tta)
    if json_out:
        print(json.dumps(results, indent=2))
        return
    class_names = None
    table = Table(title="Predictions", title_justify="left")
    for item in results:
        if class_names is None and item["faces"]:
            class_names = list(item["faces"][0]["probabilities"])
            for column in ("image", "face", "box (x,y,w,h)", "score", "emotion", *class_names):
                table.add_column(column, justify="left" if column in ("image", "emotion") else "right")
    for item in results:
        if not item["faces"]:
            console.print(f"{item['image']}: no face found" + ("" if no_detect else " (use --no-detect if it is already a cropped face)"))
        for i, face in enumerate(item["faces"]):
            probs = [f"{face['probabilities'][c]:.2f}" for c in class_names]
            table.add_row(item["image"], str(i + 1), ",".join(map(str, face["box"])), f"{face['score']:.2f}",
                          f"[bold]{face['emotion']}[/]", *probs)
    if class_names:
        console.print(table)

