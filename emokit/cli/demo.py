"""``emokit demo``: serve the Gradio demo (photos, live webcam, runs) on this machine."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from emokit.cli.common import console, console_err
from emokit.demo import FORGET_AFTER_S


def demo_command(
    run: Optional[str] = typer.Argument(None, help="A bundled model's name (fer2013), or a run path or name, or `latest` "
                                        "(default: your newest run trained on real data, else the bundled model)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on; 0.0.0.0 exposes the demo to your network."),
    port: Optional[int] = typer.Option(None, "--port", help="Port (default: the first free one from 7860)."),
    detector: str = typer.Option("haar", "--detector", metavar="NAME[=key=value,...]",
                                 help="Face detector plugin and its options, e.g. haar=scale_factor=1.2,min_neighbors=3 (`emokit plugins` lists them)."),
    backend: Optional[str] = typer.Option(None, "--backend", help="Keras backend for the model."),
    runtime: str = typer.Option("auto", "--runtime", help="keras, litert or onnx (the run's `emokit export`), any runtime a plugin adds, or auto: the run's fastest current export when no --backend is given, else keras."),
    runs: Optional[Path] = typer.Option(None, "--runs", help="Runs folder (default: $EMOKIT_RUNS_DIR or ./runs)."),
    share: bool = typer.Option(False, "--share", help="Also create a public gradio.live link (off by default)."),
    max_file_size: str = typer.Option("20mb", "--max-file-size", help="Largest upload accepted."),
    forget_after: int = typer.Option(FORGET_AFTER_S, "--forget-after", min=1, help="Seconds an uploaded photo or webcam frame stays on this machine after it was analysed; then it is deleted."),
) -> None:
    """Open the web demo: photos, live webcam and run metrics, answered by the bundled FER-2013 model or a run (Ctrl+C to stop)."""
    from emokit.demo.launch import LOCAL_HOSTS, launch_demo  # noqa: PLC0415 - Gradio loads only for this command

    if host not in LOCAL_HOSTS:
        console_err.print(f"[yellow]Warning:[/] listening on {host}: other machines can reach the demo.", highlight=False)
    if share:
        console_err.print("[yellow]Warning:[/] --share publishes the demo through a public gradio.live link.", highlight=False)

    def ready(running) -> None:
        console.print(running.serving, highlight=False, markup=False, soft_wrap=True)
        console.print(f"emokit demo running at [bold]{running.url}[/] (Ctrl+C to stop)", highlight=False)

    launch_demo(run, runs=runs, host=host, port=port, detector=detector, backend=backend, runtime=runtime, share=share,
                max_file_size=max_file_size, on_ready=ready, forget_after_s=forget_after)

