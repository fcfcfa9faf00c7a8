"""Helpers for the browser tests: Chromium, a fake-webcam clip, and the demo in a subprocess."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import cv2
import numpy as np

#: Debian's Chromium (``apt-get install -y chromium``); Playwright drives it through ``executable_path``.
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
#: Flags that keep Chromium from phoning home, plus the fake camera.
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--no-default-browser-check",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


def chromium_path() -> str | None:
    """The Chromium executable, or None where it is not installed."""
    for candidate in (os.environ.get("EMOKIT_CHROMIUM"), *CHROMIUM_CANDIDATES, shutil.which("chromium")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def webcam_frame(width: int = 640, height: int = 480) -> np.ndarray:
    """A 640x480 RGB frame holding a real photograph of a face (scikit-image's astronaut)."""
    from skimage import data

    photo = cv2.resize(data.astronaut(), (height, height), interpolation=cv2.INTER_AREA)
    frame = np.full((height, width, 3), 90, dtype=np.uint8)
    left = (width - height) // 2
    frame[:, left:left + height] = photo
    return frame


def write_y4m(path: Path, frames: list[np.ndarray], fps: int = 30) -> Path:
    """Write RGB frames as an uncompressed YUV4MPEG2 (4:2:0, "C420") clip for Chromium's fake camera."""
    height, width = frames[0].shape[:2]
    with path.open("wb") as handle:
        handle.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420\n".encode("ascii"))
        for frame in frames:
            # COLOR_RGB2YUV_I420 gives the planar Y, U, V layout Y4M stores, in one (H*3/2, W) array.
            handle.write(b"FRAME\n")
            handle.write(cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420).tobytes())
    return path


def face_clip(path: Path, frames: int = 30) -> Path:
    """A short clip of the astronaut photo drifting a few pixels (so consecutive frames differ)."""
    base = webcam_frame()
    shifted = [np.roll(base, shift=(i % 10) - 5, axis=1) for i in range(frames)]
    return write_y4m(path, shifted)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class DemoProcess:
    """``emokit demo`` running in a subprocess with its own TMPDIR (so its temp folder can be inspected)."""

    process: subprocess.Popen
    url: str
    tmpdir: Path
    output: list[str] = field(default_factory=list)

    def temp_dirs(self) -> list[Path]:
        """The demo's private temp folders (``emokit-demo-*``) under its TMPDIR."""
        return sorted(self.tmpdir.glob("emokit-demo-*"))

    def files(self, under: str = "gradio") -> list[Path]:
        """Every file Gradio keeps in the demo's temp folder."""
        return [p for d in self.temp_dirs() for p in (d / under).rglob("*") if p.is_file()]

    def user_files(self) -> list[Path]:
        """The files in the demo's Gradio temp folder other than its example photos (which Gradio keeps)."""
        from emokit.demo.examples import example_images

        examples = {f"{name}.jpg" for name in example_images()}
        return [p for p in self.files() if p.name not in examples]


@contextmanager
def running_demo(run: Path | None, tmpdir: Path, *extra: str, timeout: float = 300.0) -> Iterator[DemoProcess]:
    """Start ``emokit demo [RUN] --port P`` and stop it (SIGTERM, then kill) on exit."""
    tmpdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {**os.environ, "TMPDIR": str(tmpdir), "PYTHONUNBUFFERED": "1", "NO_COLOR": "1", "COLUMNS": "200"}
    command = [sys.executable, "-c", "from emokit.cli import main; main()", "demo", *([str(run)] if run else []), "--port", str(port), *extra]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    demo = DemoProcess(process, "", tmpdir)
    ready = threading.Event()

    def pump() -> None:  # keep reading so the pipe never fills and blocks the server
        for line in process.stdout:
            demo.output.append(line)
            match = re.search(r"running at (http://\S+)", line)
            if match:
                demo.url = match.group(1)
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    try:
        deadline = time.monotonic() + timeout
        while not ready.wait(0.2):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("emokit demo did not start:\n" + "".join(demo.output))
        yield demo
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def is_local(url: str) -> bool:
    """Whether a request URL stays on this machine (data: and blob: URLs never leave the page)."""
    parsed = urlparse(url)
    if parsed.scheme in ("data", "blob", "about", "chrome", "chrome-extension"):
        return True
    return parsed.hostname in {"127.0.0.1", "localhost", "::1"}
