"""The test video: faces that move, one leaving and one entering (for `emokit predict clip.mp4` and the demo's Video tab).

scikit-image's astronaut (a real face, which OpenCV's Haar cascade finds; it finds the synthetic
drawn faces poorly) pasted onto scikit-image's coffee photo (a textured 640x480 scene: on a flat
background the cascade's histogram equalisation loses the face) and moved across the frames; a
second, mirrored copy enters at frame 15 and the first leaves after frame 24.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

FRAMES = 40
FPS = 10.0
#: Frames in which each face is on screen: the first leaves after frame 24, the second enters at frame 15.
FIRST_ON, SECOND_ON = range(0, 25), range(15, FRAMES)


def scene(index: int) -> np.ndarray:
    """Frame ``index`` of the test video (RGB 640x480)."""
    from skimage import data as skimage_data  # a test dependency; the caller skips without it

    face = skimage_data.astronaut()[17:210, 127:320]  # the face with some hair and suit around it
    frame = cv2.resize(skimage_data.coffee(), (640, 480), interpolation=cv2.INTER_AREA)
    if index in FIRST_ON:
        x = 10 + 10 * index  # moving right
        frame[10:203, x:x + 193] = face
    if index in SECOND_ON:
        x = 430 - 8 * (index - 15)  # moving left, mirrored: another face
        frame[280:473, x:x + 193] = face[:, ::-1]
    return frame


def write_video(path: Path, frames: int = FRAMES) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, (640, 480))
    assert writer.isOpened()
    for index in range(frames):
        writer.write(cv2.cvtColor(scene(index), cv2.COLOR_RGB2BGR))
    writer.release()
    return path
