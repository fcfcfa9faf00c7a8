"""Decode many images in parallel into one preallocated uint8 array, skipping the unreadable ones.

Threads, not processes: ``cv2.imdecode`` and ``cv2.resize`` release the GIL, and threads write
straight into the shared output array, so nothing is pickled or copied between workers.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

import numpy as np

from emokit.data.sources import Source, UnsafeArchiveError
from emokit.errors import EmokitError
from emokit.preprocess import decode_image, to_model_input

#: More than this share of unreadable images means the source is broken, not just a few bad files.
MAX_BAD_FRACTION = 0.05
#: Images per task: big enough that scheduling costs little, small enough for smooth progress.
_CHUNK = 512
#: Skipped files named in the warning; the rest are counted.
_NAMED_IN_WARNING = 3

#: Where loading reports what it skipped: a logger, so the message is one plain line (Python's
#: warnings would add a line of emokit's source) and an application can route it where it likes.
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decoded:
    """Decoded images for the readable files, their positions in the request, and what was skipped."""

    images: np.ndarray
    #: Index into the requested names of each row of ``images``.
    kept: np.ndarray
    #: One line per skipped file, naming it and saying why.
    problems: list[str]

    def warning(self, display: str, total: int) -> str | None:
        """The one-line warning naming the skipped files (the first few), or ``None`` when none were."""
        if not self.problems:
            return None
        named = "; ".join(problem.rstrip(".") for problem in self.problems[:_NAMED_IN_WARNING])
        more = len(self.problems) - _NAMED_IN_WARNING
        return (f"{display}: skipped {len(self.problems)} of {total} images that could not be read: {named}"
                + (f"; and {more} more." if more > 0 else "."))


def decode_many(
    source: Source,
    names: Sequence[str],
    size: tuple[int, int],
    channels: int,
    progress: Callable[[int, int], None] | None = None,
    workers: int | None = None,
) -> Decoded:
    """Read, decode and resize every file in ``names`` to uint8 (N, height, width, channels).

    Unreadable files are skipped and listed in ``problems``; when more than :data:`MAX_BAD_FRACTION`
    of them are unreadable an :class:`EmokitError` is raised instead.
    """
    total = len(names)
    height, width = int(size[0]), int(size[1])
    out = np.empty((total, height, width, channels), dtype=np.uint8)
    ok = np.zeros(total, dtype=bool)
    problems: dict[int, str] = {}

    def work(start: int, stop: int) -> tuple[int, dict[int, str]]:
        bad: dict[int, str] = {}
        for i in range(start, stop):
            try:
                image = decode_image(source.read(names[i]), source.name_of(names[i]))
                out[i] = to_model_input(image, (height, width), channels)
                ok[i] = True
            except UnsafeArchiveError:
                raise  # a hostile archive is not a few bad files: stop loading
            except EmokitError as exc:
                bad[i] = str(exc)
        return stop - start, bad

    workers = workers or min(8, os.cpu_count() or 1)
    done = 0
    if progress is not None:
        progress(0, total)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="emokit-decode") as pool:
        futures = [pool.submit(work, start, min(start + _CHUNK, total)) for start in range(0, total, _CHUNK)]
        try:
            for future in as_completed(futures):
                count, bad = future.result()
                problems.update(bad)
                done += count
                if progress is not None:
                    progress(done, total)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)  # an error or Ctrl-C: decode no further chunks
            raise
    ordered = [problems[i] for i in sorted(problems)]
    if total and len(ordered) > MAX_BAD_FRACTION * total:
        raise EmokitError(
            f"{source.display}: {len(ordered)} of {total} images could not be read "
            f"(more than {MAX_BAD_FRACTION:.0%}); first: {ordered[0]}"
        )
    kept = np.flatnonzero(ok)
    images = out if len(kept) == total else out[kept]
    return Decoded(images=images, kept=kept, problems=ordered)


def warn_skipped(decoded: Decoded, display: str, total: int) -> str | None:
    """Log the skipped files as one warning line; returns the message so a cache can repeat it."""
    message = decoded.warning(display, total)
    if message:
        logger.warning(message)
    return message
