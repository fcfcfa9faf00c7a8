"""Launch the demo with safe defaults: local only, no share link, no analytics, no remote assets,
bounded uploads, and a private temp folder that is deleted when the demo stops.

Gradio reads ``GRADIO_TEMP_DIR`` and ``GRADIO_ANALYTICS_ENABLED`` from the environment, so
:func:`launch_demo` sets both for its process before Gradio is imported; it is meant to own the
process (``emokit demo`` or a test's subprocess).
"""

from __future__ import annotations

import os
import shutil
import signal
import threading
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: Uploads above this size are refused by Gradio before they reach the app.
MAX_FILE_SIZE = "20mb"
#: Hosts that only this machine can reach.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: System font stacks: Gradio's default theme would otherwise ask Google Fonts for its typefaces.
SANS = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica", "Arial", "sans-serif"]
MONO = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"]


@dataclass
class RunningDemo:
    """A launched demo: its URL and private temp folder; :meth:`close` stops it and deletes the folder."""

    demo: Any
    url: str
    temp_dir: Path

    @property
    def gradio_temp_dir(self) -> Path:
        """Where Gradio keeps uploads and cached files for this demo."""
        return self.temp_dir / "gradio"

    def close(self) -> None:
        """Stop the server and delete every file the demo wrote."""
        try:
            self.demo.close()
        finally:
            shutil.rmtree(self.temp_dir, ignore_errors=True)


def private_environment(temp_dir: Path) -> None:
    """Point Gradio at a private temp folder, switch its analytics off and use one math thread per model call.

    Called before Gradio and Keras are imported (both read these variables once)."""
    (temp_dir / "gradio").mkdir(parents=True, exist_ok=True)
    os.environ["GRADIO_TEMP_DIR"] = str(temp_dir / "gradio")
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    from emokit.demo.engine import INFERENCE_THREAD_ENV  # noqa: PLC0415 - light (no Gradio, no Keras)

    for key, value in INFERENCE_THREAD_ENV.items():
        os.environ.setdefault(key, value)


def local_theme():
    """Gradio's default theme with system fonts, so the page loads nothing from the internet."""
    import gradio as gr  # noqa: PLC0415

    return gr.themes.Default(font=SANS, font_mono=MONO)


def launch_demo(
    run: str | None = None,
    *,
    runs: Path | None = None,
    host: str = "127.0.0.1",
    port: int | None = None,
    detector: str = "haar",
    backend: str | None = None,
    runtime: str = "auto",
    share: bool = False,
    max_file_size: str | int = MAX_FILE_SIZE,
    block: bool = True,
    on_ready: Any = None,
) -> RunningDemo:
    """Build and serve the demo; with ``block`` it serves until Ctrl+C, then cleans up and returns.

    ``run`` is a run name, path or ``latest`` (default: the newest run in ``runs``). ``port`` None
    lets Gradio pick a free one from 7860. ``on_ready(running)`` is called once the server is up.
    """
    temp_dir = Path(tempfile.mkdtemp(prefix="emokit-demo-"))
    try:
        private_environment(temp_dir)
        from emokit.demo.app import build_demo  # noqa: PLC0415 - imports Gradio, after the environment is set
        from emokit.demo.examples import write_examples  # noqa: PLC0415

        examples = write_examples(temp_dir / "examples")
        demo = build_demo(runs, run, detector=detector, backend=backend, runtime=runtime, examples=examples)
        demo.queue(max_size=64)
        _, url, _ = demo.launch(
            server_name=host,
            server_port=port,
            share=share,
            inbrowser=False,
            prevent_thread_lock=True,
            max_file_size=max_file_size,
            theme=local_theme(),
            ssr_mode=False,  # no Node server next to the Python one
            pwa=False,
            mcp_server=False,
            enable_monitoring=False,
            show_error=False,  # tracebacks stay in the terminal; users get one-line messages
            allowed_paths=[str(temp_dir / "examples")],
            quiet=True,
        )
    except BaseException:
        shutil.rmtree(temp_dir, ignore_errors=True)
        raise
    running = RunningDemo(demo, url, temp_dir)
    if on_ready is not None:
        on_ready(running)
    if not block:
        return running
    if threading.current_thread() is threading.main_thread():
        # `kill` (SIGTERM) must clean up like Ctrl+C does: no user image may outlive the demo.
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        demo.block_thread()  # returns on Ctrl+C (Gradio closes the server)
    finally:
        running.close()
    return running


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
