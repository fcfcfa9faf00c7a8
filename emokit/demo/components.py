"""Gradio image components that keep no user image on disk.

Stock ``gr.Image`` writes every output image into Gradio's temp folder (GRADIO_TEMP_DIR) - for a
webcam stream that is one file per frame. :func:`inline_image` returns its image inside the response
as a ``data:`` URL (nothing is written); :func:`private_upload` hands the handler the uploaded bytes.
Both are stock ``gr.Image`` components (Gradio's own front end) with one method replaced.

Uploads (and webcam frames, which arrive as uploads) are deleted by Gradio's ``delete_cache``
sweep, never by the handler: Gradio stores identical uploads as one file, so deleting it when one
request was answered failed every other request with the same photo, and the page's preview of
it. :class:`UploadLedger` tells the sweep which files a request still needs (uploaded, not yet
read), and dates a file from when it was last read, so the sweep deletes it a fixed time after
its last answer (see :func:`emokit.demo.app.build_demo`).
"""

from __future__ import annotations

import base64
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import gradio as gr
import numpy as np
from gradio.data_classes import ImageData

#: JPEG quality of displayed frames: visually clean, about 30-60 KB for 640x480, fast to encode.
JPEG_QUALITY = 85


def to_data_url(image: np.ndarray, quality: int = JPEG_QUALITY) -> str:
    """A uint8 RGB or gray image as a ``data:image/jpeg;base64,...`` URL (encoded in memory)."""
    image = np.asarray(image, dtype=np.uint8)
    if image.ndim == 3 and image.shape[2] == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError("OpenCV could not encode the image as JPEG.")
    return "data:image/jpeg;base64," + base64.b64encode(encoded.tobytes()).decode("ascii")


def inline_postprocess(value: np.ndarray | None) -> ImageData | None:
    """An output image as a JPEG ``data:`` URL (``None`` clears it); nothing is written to disk."""
    if value is None:
        return None
    if not isinstance(value, np.ndarray):
        raise TypeError(f"Inline images are numpy arrays, got {type(value).__name__}.")
    # No ``path``: Gradio's file handling (which copies files into its cache) skips the value.
    return ImageData(url=to_data_url(value), orig_name="image.jpg", mime_type="image/jpeg")


def inline_image(**kwargs: Any) -> gr.Image:
    """A ``gr.Image`` output whose images travel inline as JPEG ``data:`` URLs, never saved to Gradio's temp folder.

    A stock component with its ``postprocess`` replaced on the instance (Gradio calls it through
    the instance). Not a subclass: Gradio writes a ``.pyi`` stub next to the module of every
    component subclass it sees, and builds the front-end configuration from the class signature.
    """
    image = gr.Image(**kwargs)
    image.postprocess = inline_postprocess  # type: ignore[method-assign]
    return image


#: An upload no request has read is kept from the sweep at most this long (seconds): a full queue
#: on a busy machine waits minutes; an upload no request ever reads is deleted after this.
MAX_WAIT_S = 300


class UploadLedger:
    """The uploads that requests still need, so Gradio's ``delete_cache`` sweep leaves them alone.

    Every upload is counted (two users sending the same photo make one file, counted twice) and
    released when a request reads it; the last release dates the file afresh, so the sweep deletes
    it its full age after the last answer (the page's preview of the photo needs it meanwhile).
    Gradio's sweep skips the paths a component lists in ``keep_in_cache``: the upload component's
    is this ledger (uploads waiting in the queue, plus the example photos Gradio adds itself).
    """

    def __init__(self, max_wait_s: float = MAX_WAIT_S) -> None:
        self.max_wait_s = max_wait_s
        self._waiting: dict[str, list[float]] = {}
        self._kept: set[str] = set()
        self._lock = threading.Lock()

    def uploaded(self, paths: object) -> None:
        """Count new uploads (what Gradio's upload route adds to ``Blocks.upload_file_set``)."""
        now = time.monotonic()
        with self._lock:
            for path in paths if isinstance(paths, (list, tuple, set)) else [paths]:
                self._waiting.setdefault(str(path), []).append(now)

    def release(self, path: str | os.PathLike) -> None:
        """A request has read ``path``: one upload fewer waits for it; its age restarts now."""
        with self._lock:
            times = self._waiting.get(str(path))
            if times:
                times.pop(0)
                if not times:
                    del self._waiting[str(path)]
        try:
            os.utime(path)  # the sweep ages files by their change time, which this sets to now
        except OSError:
            pass

    def add(self, path: str) -> None:
        """Keep ``path`` until the demo stops (Gradio calls this for example files)."""
        with self._lock:
            self._kept.add(str(path))

    def __iter__(self) -> Iterator[str]:
        """The paths the sweep must not delete now: examples, and uploads waiting less than ``max_wait_s``."""
        now = time.monotonic()
        with self._lock:
            waiting = [p for p, times in self._waiting.items() if now - times[0] < self.max_wait_s]
            return iter([*self._kept, *waiting])


class _CountedUploads(set):
    """Gradio's set of uploaded files, also reporting each upload to a ledger."""

    def __init__(self, existing: set, ledger: UploadLedger) -> None:
        super().__init__(existing)
        self.ledger = ledger

    def update(self, *others) -> None:  # the upload route's only call: upload_file_set.update(paths)
        for paths in others:
            paths = list(paths)
            super().update(paths)
            self.ledger.uploaded(paths)


def track_uploads(demo: gr.Blocks, ledger: UploadLedger, *inputs: gr.components.Component) -> None:
    """Report ``demo``'s uploads to ``ledger``, release a file when one of ``inputs`` reads it, and let
    ``demo``'s sweep skip what the ledger keeps."""
    counted = _CountedUploads(demo.upload_file_set, ledger)
    demo.temp_file_sets = [counted if s is demo.upload_file_set else s for s in demo.temp_file_sets]
    demo.upload_file_set = counted
    for component in inputs:
        for path in component.keep_in_cache:  # example files Gradio registered while the page was built
            ledger.add(path)
        component.keep_in_cache = ledger  # type: ignore[assignment] - iterated by the sweep; .add() by Examples
        read = component.preprocess

        def releasing(payload, read=read):
            try:
                return read(payload)
            finally:
                if getattr(payload, "path", None):
                    ledger.release(payload.path)

        component.preprocess = releasing  # type: ignore[method-assign]


def private_preprocess(payload: ImageData | None) -> bytes | None:
    """The uploaded file's bytes (``None`` when cleared), for the handler to decode."""
    if payload is None:
        return None
    if payload.url and payload.url.startswith("data:"):
        return base64.b64decode(payload.url.split(",", 1)[1])
    if payload.path is None:
        return None
    try:
        return Path(payload.path).read_bytes()
    except FileNotFoundError:  # only when a request comes minutes after its upload (see UploadLedger)
        raise gr.Error("That photo has been deleted from the server (uploads are kept only briefly); upload it again.") from None


def private_upload(**kwargs: Any) -> gr.Image:
    """A ``gr.Image`` input whose handler receives the raw uploaded bytes.

    The bytes go to :func:`emokit.preprocess.decode_image` (the one decoding path), so a file
    that is not an image becomes a clear message rather than a Pillow trace.
    """
    image = gr.Image(**kwargs)
    image.preprocess = private_preprocess  # type: ignore[method-assign]
    return image
