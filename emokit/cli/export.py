"""``emokit export``: write a run's model as LiteRT or ONNX for fast inference, checked against the Keras model."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from emokit.cli.common import console, console_err, registry_with_warnings, usable_run


def export_command(
    run: str = typer.Argument(..., help="Run path or name (or `latest`)."),
    format: str = typer.Option("litert", "--format", help="Export format: litert (needs TensorFlow to convert) or onnx "
                               "(converts on torch); `emokit plugins` lists every exporter."),
    int8: bool = typer.Option(False, "--int8", help="LiteRT: store weights as int8 (dynamic-range quantization): 4x smaller."),
    runs: Optional[Path] = typer.Option(None, "--runs", help="Runs folder."),
) -> None:
    """Export a run's model (RUN/model.tflite or RUN/model.onnx) and check it answers like the Keras model."""
    from emokit.errors import EmokitError  # noqa: PLC0415
    from emokit.inference.exporting import check_exporter, export_run  # noqa: PLC0415 - Keras loads only for this command

    registry = registry_with_warnings()
    check_exporter(registry, format)
    options = {}
    if int8:
        if "quantize" not in registry.get("exporter", format).options:
            raise EmokitError(f"--int8 applies to exporters with a quantize option (litert), not '{format}'.")
        options["quantize"] = True
    result = export_run(usable_run(run, runs), registry, format, **options)
    parity = result.parity
    kind = "int8 weights" if int8 else "float32"
    speed = f", {result.latency_ms:.2f} ms per face on {result.runtime}" if result.latency_ms is not None else ""
    console.print(f"Exported {result.run.name} to {result.path} ({result.size_mb:.2f} MB, {kind}){speed}.", highlight=False)
    if parity is None:
        console_err.print(f"Warning: parity with the Keras model not checked: {result.unchecked}.", highlight=False)
        return
    console.print(f"Parity with the Keras model on {parity.faces} {parity.images} faces: top-1 agreement "
                  f"{parity.top1_agreement:.1%}, max probability difference {parity.max_abs_diff:.2g}.", highlight=False)
    if not parity.ok:
        console_err.print(f"Warning: top-1 agreement {parity.top1_agreement:.1%} is below {parity.threshold:.0%}: "
                          f"the {format} export answers differently from the Keras model; "
                          f"compare with: emokit evaluate {result.run.path} --runtime {result.runtime}", highlight=False)
    console.print(f"Try it: emokit evaluate {result.run.path} --runtime {result.runtime}", highlight=False)

