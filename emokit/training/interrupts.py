"""Ctrl-C and SIGTERM during a training: the first stops promptly, a second stops at once.

Python runs a signal handler only when the main thread gets back to Python code. While it waits in
C code (a thread pool decoding images, a backend tracing the training graph, an import) a handler
that raises ``KeyboardInterrupt`` runs late, and the cleanup after it (joining the decode threads)
can take longer still: a SIGTERM in a run's first minutes was not acted on for over 20 s. So the
C-level handler also writes the signal to a wake-up pipe (``signal.set_wakeup_fd``), which a watcher
thread reads at once, whatever the main thread does: after the first signal it gives the main
thread :data:`GRACE_S` seconds to stop in order, and after a second signal (or the grace) it calls
:attr:`StopSignals.before_exit` (which marks the run interrupted) and ends the process. Checkpoints
are written to a temporary file and renamed, so ending the process at any moment keeps the last one.
"""

from __future__ import annotations

import os
import select
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: Seconds the main thread has, after the first signal, to stop in order before the process ends anyway.
GRACE_S = 5.0
#: Exit status of a training that was stopped, as for every emokit error.
STOPPED_EXIT = 2
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """The handlers of one training command (see the module docstring); made by :func:`stop_signals`."""

    def __init__(self, grace_s: float | None = GRACE_S) -> None:
        #: ``None``: no deadline after the first signal (a library call must not end its host process).
        self.grace_s = grace_s
        #: Called (from the watcher thread) just before the process ends at once; returns the line to print
        #: ("" for none). The trainer points it at the run as soon as the run exists.
        self.before_exit: Callable[[], str] = lambda: "Training stopped before it started; no run was written."
        #: A line the command adds after ``before_exit``'s when the process ends at once (a sweep: how to continue it).
        self.exit_note = ""
        #: Signals the Python-level handler has seen.
        self.received = 0
        self.finished = threading.Event()  # set when the command ended in order before any signal

    def handle(self, signum: int, frame: object) -> None:
        """The Python-level handler: the first signal interrupts the main thread; later ones are the watcher's."""
        self.received += 1
        if self.received == 1:
            raise KeyboardInterrupt

    def watch(self, read_fd: int) -> None:
        """Read signals from the wake-up pipe; end the process after a second one, or when the grace runs out."""
        first_seen = False
        deadline: float | None = None
        while not self.finished.is_set():
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([read_fd], [], [], timeout)
            if self.finished.is_set():
                return
            if not ready:  # the grace is over and the process is still here
                self.exit_now()
            try:
                data = os.read(read_fd, 64)
            except OSError:
                data = b""
            if not data:  # the command ended and closed the pipe; a deadline, if any, still holds
                if deadline is not None:
                    time.sleep(max(0.0, deadline - time.monotonic()))
                    self.exit_now()
                return
            for byte in data:
                if byte not in SIGNALS:
                    continue
                if first_seen:
                    self.exit_now()
                first_seen = True
                if self.grace_s is not None:
                    deadline = time.monotonic() + self.grace_s

    def exit_now(self) -> None:
        """Mark the run (``before_exit``), print its line and end the process without any cleanup."""
        try:
            line = self.before_exit()
        except Exception as exc:  # noqa: BLE001 - ending the process matters more than the status line
            line = f"Training stopped ({type(exc).__name__} while marking the run: {exc})."
        line = " ".join(part for part in (line, self.exit_note) if part)
        if line:
            os.write(2, f"\n{line}\n".encode())
        os._exit(STOPPED_EXIT)


@contextmanager
def stop_signals(grace_s: float = GRACE_S, process_ends: bool = False) -> Iterator[StopSignals]:
    """Install the Ctrl-C/SIGTERM handling of a training for the block; restore the previous one after.

    Outside the main thread signals cannot be handled: the block runs with the handlers unchanged.
    ``process_ends`` (a command, not a library call): the first signal starts the grace, and the
    watcher outlives the block, so the process ends within it even when what follows (joining decode
    threads at exit) holds it up. A library call gets no grace; a second signal ends the process in both.
    """
    stops = StopSignals(grace_s if process_ends else None)
    if threading.current_thread() is not threading.main_thread():
        yield stops
        return
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    previous = {sig: signal.signal(sig, stops.handle) for sig in SIGNALS}
    previous_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
    watcher = threading.Thread(target=stops.watch, args=(read_fd,), name="emokit-stop-signals", daemon=True)
    watcher.start()
    try:
        yield stops
    finally:
        signal.set_wakeup_fd(previous_fd)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        linger = process_ends and stops.received > 0
        if linger:
            stops.before_exit = lambda: ""  # the command has said what happened and marked the run
            stops.exit_note = ""
        else:
            stops.finished.set()
        os.close(write_fd)  # wakes the watcher
        if not linger:
            watcher.join(timeout=1)
            os.close(read_fd)
