"""Gradio image components that keep no user image on disk.

Stock ``gr.Image`` writes every output image into Gradio's temp folder (GRADIO_TEMP_DIR) and
never deletes it - for a webcam stream that is one file per frame - and uploads stay there too.
:func:`inline_image` returns its image inside the response as a ``data:`` URL (nothing is written);
:func:`private_upload` hands the handler the uploaded bytes and deletes the uploaded file at once.
Both are stock ``gr.Image`` components (Gradio's own front end) with one method replaced.
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import cv2
import gradio as gr
import numpy as np
from gradio.data_classes import ImageData
from gradio.utils import get_upload_folder

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


def file_digest(data: bytes) -> str:
    """SHA-256 of file contents (how example images are told apart from user uploads)."""
    return hashlib.sha256(data).hexdigest()


def private_preprocess(payload: ImageData | None, keep: frozenset[str] = frozenset()) -> bytes | None:
    """The uploaded file's bytes (``None`` when cleared); the file is deleted unless its SHA-256 is in ``keep``."""
    if payload is None:
        return None
    if payload.url and payload.url.startswith("data:"):
        return base64.b64decode(payload.url.split(",", 1)[1])
    if payload.path is None:
        return None
    path = Path(payload.path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise gr.Error("That upload is no longer on the server (uploads are deleted once answered); upload it again.") from None
    if file_digest(data) not in keep:
        forget_upload(path)
    return data


def private_upload(keep_digests: Iterable[str] = (), **kwargs: Any) -> gr.Image:
    """A ``gr.Image`` input whose handler receives the raw uploaded bytes; the uploaded file is deleted at once.

    The bytes go to :func:`emokit.preprocess.decode_image` (the one decoding path), so a file
    that is not an image becomes a clear message rather than a Pillow trace. Files whose contents
    match ``keep_digests`` (the demo's example images) stay, so examples remain clickable.
    """
    image = gr.Image(**kwargs)
    image.preprocess = functools.partial(private_preprocess, keep=frozenset(keep_digests))  # type: ignore[method-assign]
    return image


def forget_upload(path: Path) -> None:
    """Delete an uploaded file and its per-upload folder, but only inside Gradio's upload folder."""
    root = Path(get_upload_folder()).resolve()
    path = path.resolve()
    if root not in path.parents:
        return  # never delete a file the user named on the server (e.g. an example path)
    path.unlink(missing_ok=True)
    folder = path.parent
    if folder != root:
        try:
            folder.rmdir()  # Gradio puts each upload in its own hash-named folder
        except OSError:
            pass  # not empty: another file shares it
