"""Launch the demo with safe defaults: local only, no share link, no analytics, no remote assets,
bounded uploads, and a private temp folder that is deleted when the demo stops - or, when the demo
was killed (``kill -9``, a crash), by the next demo that starts.

Gradio reads ``GRADIO_TEMP_DIR`` and ``GRADIO_ANALYTICS_ENABLED`` from the environment, so
:func:`launch_demo` sets both for its process before Gradio is imported; it is meant to own the
process (``emokit demo`` or a test's subprocess).
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emokit.demo import FORGET_AFTER_S

#: Uploads above this size are refused by Gradio before they reach the app.
MAX_FILE_SIZE = "20mb"
#: Hosts that only this machine can reach.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
#: System font stacks: Gradio's default theme would otherwise ask Google Fonts for its typefaces.
SANS = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica", "Arial", "sans-serif"]
MONO = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"]
#: Every demo's private temp folder is named ``emokit-demo-*`` in the system temp folder.
TEMP_PREFIX = "emokit-demo-"
#: A file in the temp folder that its demo holds an exclusive lock on for as long as it runs: the
#: operating system drops the lock when the process dies, however it dies, so a folder whose lock
#: can be taken belongs to a dead demo.
OWNER_LOCK = ".owner.lock"
#: A folder with no lock file is left alone this long (seconds): a demo may be between creating it and locking it.
UNLOCKED_GRACE_S = 60


@dataclass
class RunningDemo:
    """A launched demo: its URL and private temp folder; :meth:`close` stops it and deletes the folder."""

    demo: Any
    url: str
    temp_dir: Path
    #: What answers: the bundled model or run, its training data, accuracy and runtime (or why none can answer).
    serving: str = ""
    owner_lock: int | None = None

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
            if self.owner_lock is not None:
                os.close(self.owner_lock)
                self.owner_lock = None


def claim_temp_dir(parent: Path | None = None) -> tuple[Path, int]:
    """A new private temp folder locked by this process (folder, lock descriptor), after deleting dead demos' folders."""
    parent = Path(parent or tempfile.gettempdir())
    remove_dead_temp_dirs(parent)
    temp_dir = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, dir=parent))
    lock = os.open(temp_dir / OWNER_LOCK, os.O_CREAT | os.O_RDWR, 0o600)
    _try_lock(lock)
    return temp_dir, lock


def remove_dead_temp_dirs(parent: Path) -> list[Path]:
    """Delete the temp folders of demos that are no longer running (killed, crashed); returns them.

    A running demo holds the lock on its folder's :data:`OWNER_LOCK`; a folder whose lock this
    process can take was left by a dead demo and may still hold uploads.
    """
    removed = []
    for folder in Path(parent).glob(TEMP_PREFIX + "*"):
        if folder.is_dir() and _is_abandoned(folder):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _is_abandoned(folder: Path) -> bool:
    try:
        lock = os.open(folder / OWNER_LOCK, os.O_RDWR)
    except FileNotFoundError:  # being created, or left by a demo from before the lock: judged by its age
        try:
            return time.time() - folder.stat().st_mtime > UNLOCKED_GRACE_S
        except OSError:
            return False  # gone meanwhile
    except OSError:
        return False  # not ours to judge (another user's folder)
    try:
        return _try_lock(lock)
    finally:
        os.close(lock)  # closing drops a lock taken here


def _try_lock(descriptor: int) -> bool:
    """Take an exclusive lock without waiting; ``False`` when another process holds it."""
    try:
        import fcntl  # noqa: PLC0415 - POSIX only

        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except ImportError:
        return False  # no flock (Windows): never judge another demo's folder abandoned
    return True


def private_environment(temp_dir: Path) -> None:
    """Point Gradio at a private temp folder, switch its analytics off and use one math thread per model call.

    Called before Gradio and Keras are imported (both read these variables once)."""
    (temp_dir / "gradio").mkdir(parents=True, exist_ok=True)
    os.environ["GRADIO_TEMP_DIR"] = str(temp_dir / "gradio")
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    from emokit.inference.threads import prefer_one_math_thread  # noqa: PLC0415 - light (no Gradio, no Keras)

    prefer_one_math_thread()


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
    forget_after_s: int = FORGET_AFTER_S,
) -> RunningDemo:
    """Build and serve the demo; with ``block`` it serves until Ctrl+C, then cleans up and returns.

    ``run`` is a bundled model's name (``fer2013``), a run name, path or ``latest`` (default: the newest
    run in ``runs`` trained on real data, else the bundled model, else the newest run). ``port`` None
    lets Gradio pick a free one from 7860. ``on_ready(running)`` is called once the server is up.
    ``forget_after_s``: seconds an upload or frame stays on disk. ``detector`` is
    ``NAME[=key=value,...]`` (see :func:`emokit.faces.parse_detector`).
    """
    from emokit.faces import parse_detector  # noqa: PLC0415 - light (OpenCV, no Gradio, no Keras)
    from emokit.registry import build_registry  # noqa: PLC0415

    registry = build_registry()
    chosen = parse_detector(registry, detector)  # a bad --detector is one line, before Gradio loads or a folder is made
    temp_dir, owner_lock = claim_temp_dir()
    try:
        private_environment(temp_dir)
        from emokit.demo.app import build_demo, serving_line  # noqa: PLC0415 - imports Gradio, after the environment is set
        from emokit.demo.engine import ModelCache, run_choices  # noqa: PLC0415
        from emokit.demo.examples import write_examples  # noqa: PLC0415

        models = ModelCache(registry, backend, runtime=runtime)
        # The default run's model is loaded now: the first photo is answered at once, and what serves is printed.
        serving = serving_line(run_choices(runs, run, registry), models)
        examples = write_examples(temp_dir / "examples")
        demo = build_demo(runs, run, registry=registry, models=models, detector=chosen, backend=backend,
                          runtime=runtime, examples=examples, forget_after_s=forget_after_s)
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
        os.close(owner_lock)
        raise
    running = RunningDemo(demo, url, temp_dir, serving, owner_lock)
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
