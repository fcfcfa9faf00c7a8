"""`emokit predict MODEL clip.mp4 --out DIR`: face ids that stay with their face, smoothing, --every, and the
three files (annotated video, per-frame CSV, timeline PNG), on a video generated here.

The video (tests/video_utils.py): the astronaut's face moving across scikit-image's coffee photo, a second
face entering at frame 15 and the first leaving after frame 24.

Fast tests use real OpenCV, the real Haar plugin and a stand-in runtime (answers from the crop's
brightness, as in test_frames); the slow ones run the CLI on the real trained run.
"""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from brightness_runtime import Brightness
from cli_utils import run_cli
from emokit.errors import EmokitError
from emokit.inference.frames import Face, FramePipeline, detector_pool
from emokit.inference.tracking import FaceIds, ProbabilitySmoother
from emokit.inference.video import (VIDEO_DETECT_WIDTH, VIDEO_DETECTOR_OPTIONS, TrackedFace, VideoReader, VideoSettings,
                                    analyze_video, frame_columns, frame_row, track_faces)
from emokit.records import Box
from emokit.registry import build_registry
from video_utils import FIRST_ON, FPS, FRAMES, SECOND_ON, scene, write_video

pytest.importorskip("skimage.data")

@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    return write_video(tmp_path_factory.mktemp("video") / "clip.mp4")



@pytest.fixture(scope="module")
def pipeline() -> FramePipeline:
    registry = build_registry()
    return FramePipeline(Brightness(), detector_pool(registry, "haar", VIDEO_DETECTOR_OPTIONS), detect_width=VIDEO_DETECT_WIDTH)


# -- face ids ----------------------------------------------------------------------------------------------------


def test_ids_stay_with_moving_faces_and_new_faces_get_new_ids():
    ids = FaceIds(keep=2)
    assert ids.update([Box(0, 0, 100, 100), Box(300, 0, 100, 100)]) == [1, 2]
    # Both moved 20 px, listed in the other order: each keeps its id.
    assert ids.update([Box(320, 0, 100, 100), Box(20, 0, 100, 100)]) == [2, 1]
    # A third face far from both is new; a face never reuses an id.
    assert ids.update([Box(40, 0, 100, 100), Box(340, 0, 100, 100), Box(150, 300, 90, 90)]) == [1, 2, 3]
    assert ids.active == [1, 2, 3]


def test_a_face_missed_briefly_keeps_its_id_and_one_that_left_ends_its_track():
    ids = FaceIds(keep=2)
    ids.update([Box(0, 0, 100, 100), Box(300, 0, 100, 100)])
    ids.update([Box(300, 0, 100, 100)])  # face 1 missed once or twice...
    ids.update([Box(300, 0, 100, 100)])
    assert ids.update([Box(10, 0, 100, 100), Box(300, 0, 100, 100)]) == [1, 2]  # ...and found again: same id
    for _ in range(3):
        ids.update([Box(300, 0, 100, 100)])
    assert ids.ended == [1] and ids.active == [2]
    assert ids.update([Box(0, 0, 100, 100), Box(300, 0, 100, 100)]) == [3, 2]  # back after it left: a new face


def test_a_box_of_a_very_different_size_or_far_away_is_another_face():
    ids = FaceIds()
    ids.update([Box(100, 100, 100, 100)])
    assert ids.update([Box(110, 110, 30, 30)]) == [2]  # much smaller: not the same face
    ids = FaceIds()
    ids.update([Box(100, 100, 100, 100)])
    assert ids.update([Box(200, 100, 100, 100)]) == [2]  # moved a whole face width in one frame


# -- smoothing ---------------------------------------------------------------------------------------------------


def test_mean_smoothing_averages_each_face_over_its_last_answers():
    smoother = ProbabilitySmoother(2, "mean")
    assert np.allclose(smoother.update(1, [1.0, 0.0]), [1.0, 0.0])
    assert np.allclose(smoother.update(2, [0.0, 1.0]), [0.0, 1.0])  # another face: its own history
    assert np.allclose(smoother.update(1, [0.0, 1.0]), [0.5, 0.5])
    assert np.allclose(smoother.update(1, [0.0, 1.0]), [0.0, 1.0])  # the window is 2
    smoother.forget([1])
    assert np.allclose(smoother.update(1, [1.0, 0.0]), [1.0, 0.0])


def test_ema_smoothing_has_span_n_and_no_smoothing_passes_through():
    smoother = ProbabilitySmoother(3, "ema")  # alpha = 2 / (3 + 1)
    smoother.update(1, [1.0, 0.0])
    assert np.allclose(smoother.update(1, [0.0, 1.0]), [0.5, 0.5])
    assert np.allclose(ProbabilitySmoother(0).update(1, [0.2, 0.8]), [0.2, 0.8])
    with pytest.raises(EmokitError, match="Unknown smoothing 'median'"):
        ProbabilitySmoother(3, "median")


def test_settings_are_checked_in_one_line():
    with pytest.raises(EmokitError, match="--every must be 1"):
        VideoSettings(every=0).check()
    with pytest.raises(EmokitError, match="smoothing window"):
        VideoSettings(smooth=-1).check()


# -- rows --------------------------------------------------------------------------------------------------------


def test_a_frame_row_has_time_id_box_score_probabilities_and_emotion():
    face = TrackedFace(7, Face(Box(1, 2, 30, 40, 0.91234), {"happy": 0.25, "sad": 0.75}), analysed=False)
    assert frame_columns(["happy", "sad"]) == ["frame", "time_s", "face_id", "x", "y", "w", "h", "score",
                                               "happy", "sad", "emotion", "analysed"]
    assert frame_row(12, 0.4, face, ["happy", "sad"]) == [12, "0.400", 7, 1, 2, 30, 40, "0.9123", "0.2500", "0.7500", "sad", 0]


# -- the pipeline on the generated video -------------------------------------------------------------------------


def faces_by_frame(pipeline: FramePipeline, clip: Path, settings: VideoSettings = VideoSettings()) -> list[list[TrackedFace]]:
    with VideoReader(clip) as reader:
        assert reader.size == (640, 480) and reader.fps == pytest.approx(FPS)
        return [faces for _, faces in track_faces(pipeline, reader.frames(), settings)]


def test_each_face_of_the_video_keeps_one_id_from_entering_to_leaving(pipeline, clip):
    frames = faces_by_frame(pipeline, clip)
    assert len(frames) == FRAMES
    ids_at = [{f.face_id: f.face.box for f in faces} for faces in frames]
    first = next(iter(ids_at[0]))
    # The first face: found at once, the same id while on screen, followed as it moves right.
    assert all(set(ids_at[i]) >= {first} for i in FIRST_ON)
    assert ids_at[24][first].x - ids_at[0][first].x > 150
    # The second face: found soon after it enters (at the next full search), then one id to the end.
    second_ids = {i for frame in ids_at[SECOND_ON.start:] for i in frame} - {first}
    assert len(second_ids) == 1
    (second,) = second_ids
    seen = [i for i, frame in enumerate(ids_at) if second in frame]
    assert seen[0] <= SECOND_ON.start + 10 and seen == list(range(seen[0], FRAMES))
    # The first face left: gone from the frames after it, and no stray ids anywhere.
    assert all(first not in frame for frame in ids_at[FIRST_ON.stop + 1:])
    assert {i for frame in ids_at for i in frame} == {first, second}


def test_every_nth_frame_is_analysed_and_the_others_carry_its_answer(pipeline, clip):
    frames = faces_by_frame(pipeline, clip, VideoSettings(every=4))
    for index, faces in enumerate(frames):
        assert all(f.analysed == (index % 4 == 0) for f in faces)
        if index % 4:
            assert faces == [TrackedFace(f.face_id, f.face, False) for f in frames[index - index % 4]]


def test_analyze_video_writes_annotated_video_csv_and_timeline(pipeline, clip, tmp_path):
    result = analyze_video(pipeline, clip, tmp_path / "out", VideoSettings(smooth=3))
    assert result.frames == FRAMES and len(result.face_frames) == 2
    # The annotated video: same size, rate and length, with boxes drawn.
    with VideoReader(result.annotated) as reader:
        drawn = list(reader.frames())
    assert len(drawn) == FRAMES and reader.size == (640, 480) and reader.fps == pytest.approx(FPS)
    assert np.abs(drawn[5].astype(int) - scene(5).astype(int)).mean() > 2  # boxes and labels on it
    # The CSV: one row per face per frame, with its id.
    with open(result.csv, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == frame_columns(["happy", "sad"])
    assert len(rows) == sum(result.face_frames.values())
    assert {int(r["face_id"]) for r in rows} == set(result.face_frames)
    assert all(abs(float(r["happy"]) + float(r["sad"]) - 1) < 1e-3 for r in rows)
    assert float(rows[-1]["time_s"]) == pytest.approx(int(rows[-1]["frame"]) / FPS, abs=1e-3)
    # The timeline: a real PNG; no temporary files left beside the outputs.
    image = cv2.imread(str(result.timeline))
    assert image is not None and image.shape[0] > 200 and image.shape[1] > 600
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["clip.annotated.mp4", "clip.csv", "clip.timeline.png"]


def test_a_corrupt_video_is_one_clear_line(pipeline, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 20)
    with pytest.raises(EmokitError, match="broken.mp4: not a video OpenCV can read") as caught:
        analyze_video(pipeline, broken, tmp_path / "out")
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


# -- the command, on the real trained run ----------------------------------------------------------------------


@pytest.mark.slow
def test_predict_a_video_writes_its_three_files(trained_run, clip, tmp_path, capsys):
    code, out, err = run_cli(capsys, "predict", str(trained_run.path), str(clip), "--out", str(tmp_path / "out"),
                             "--backend", "torch", "--smooth", "3")
    assert code == 0, err
    assert "clip.mp4: 40 frames" in " ".join(out.split()) and "#1" in out
    with open(tmp_path / "out" / "clip.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    ids = {r["face_id"] for r in rows}
    assert len(ids) == 2  # one stable id per face
    assert set(trained_run.spec().class_names) <= set(rows[0]) and all(r["emotion"] for r in rows)
    assert cv2.imread(str(tmp_path / "out" / "clip.timeline.png")) is not None
    assert (tmp_path / "out" / "clip.annotated.mp4").stat().st_size > 10_000


@pytest.mark.slow
def test_a_corrupt_video_among_others_is_named_and_the_rest_run(trained_run, clip, tmp_path, capsys):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all" * 100)
    code, out, err = run_cli(capsys, "predict", str(trained_run.path), str(broken), str(clip), "--out",
                             str(tmp_path / "out"), "--backend", "torch", "--every", "2")
    assert code == 1, err  # a named file failed: not a success, but the rest was done
    text = " ".join(err.split())
    assert "Skipped 1 of 2 files" in text and "broken.mp4: not a video OpenCV can read" in text
    assert (tmp_path / "out" / "clip.csv").exists() and not (tmp_path / "out" / "broken.csv").exists()
    # Alone, the same file is one error line, as any user error.
    code, out, err = run_cli(capsys, "predict", str(trained_run.path), str(broken), "--out", str(tmp_path / "out"))
    assert code == 2 and len(err.strip().splitlines()) == 1 and "broken.mp4" in err


def test_a_video_without_out_is_an_argument_error_before_the_model_loads(tmp_path, capsys, clip):
    fake_run = tmp_path / "model.onnx"  # an exported file: looked at only when loading, which never happens
    fake_run.write_bytes(b"never loaded")
    code, out, err = run_cli(capsys, "predict", str(fake_run), str(clip))
    assert code == 2 and "is a video: add --out DIR" in " ".join(err.split())


def test_the_annotated_video_can_be_webm_for_browsers(pipeline, tmp_path):
    short = write_video(tmp_path / "short.mp4", frames=6)  # VP8 encodes slowly: a few frames show it works
    result = analyze_video(pipeline, short, tmp_path, container=".webm")
    assert result.annotated == tmp_path / "short.annotated.webm"
    with VideoReader(result.annotated) as reader:
        assert sum(1 for _ in reader.frames()) == 6
    with pytest.raises(EmokitError, match="Unknown video container '.gif'"):
        analyze_video(pipeline, short, tmp_path, container=".gif")
