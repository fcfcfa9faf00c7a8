"""`emokit predict MODEL DIR --csv out.csv`: folders searched recursively, faces batched across images,
CSV / JSON Lines rows, and files that are not images skipped, counted and named, never fatal.

Images are generated here: scikit-image's astronaut (a real face the Haar cascade finds) and the
synthetic faces (as face crops, with --no-detect). Fast tests use a stand-in runtime (answers from
the crop's brightness, as in test_frames); the slow ones run the CLI on the real trained run.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from brightness_runtime import Brightness
from cli_utils import run_cli
from emokit.errors import EmokitError
from emokit.inference.folders import ImageResult, Skipped, collect_inputs, predict_files
from emokit.inference.frames import FramePipeline, detector_pool
from emokit.inference.prediction_output import csv_columns, prediction_files
from emokit.registry import build_registry

skimage_data = pytest.importorskip("skimage.data")



def write_rgb(path: Path, image: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image)
    return path


@pytest.fixture
def album(tmp_path) -> Path:
    """A folder tree: 3 photos with a face (one in a subfolder), one without, and files that are not images."""
    root = tmp_path / "album"
    astronaut = skimage_data.astronaut()
    write_rgb(root / "a.png", astronaut)
    write_rgb(root / "b.jpg", np.ascontiguousarray(astronaut[:, ::-1]))
    write_rgb(root / "trip" / "c.png", np.ascontiguousarray(astronaut[0:256, 64:320]))
    write_rgb(root / "trip" / "wall.png", np.full((120, 160, 3), 128, np.uint8))  # no face
    (root / "notes.txt").write_text("not an image")
    (root / "trip" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 truncated")
    (root / "empty.png").write_bytes(b"")
    (root / ".hidden").mkdir()
    (root / ".hidden" / "x.png").write_bytes(b"hidden folders are left out")
    return root


@pytest.fixture
def pipeline() -> FramePipeline:
    return FramePipeline(Brightness(), detector_pool(build_registry(), "haar"))


def test_a_folder_is_searched_recursively_and_mixed_with_named_files(album, tmp_path):
    extra = write_rgb(tmp_path / "single.png", skimage_data.astronaut())
    (tmp_path / "clip.mp4").write_bytes(b"a video by its name")
    inputs = collect_inputs([album, extra, tmp_path / "clip.mp4"])
    names = [p.relative_to(tmp_path).as_posix() for p in inputs.images]
    assert names == ["album/a.png", "album/b.jpg", "album/empty.png", "album/notes.txt", "album/trip/broken.jpg",
                     "album/trip/c.png", "album/trip/wall.png", "single.png"]
    assert inputs.videos == [tmp_path / "clip.mp4"] and inputs.folders == [album]
    assert inputs.named == {extra, tmp_path / "clip.mp4"}


def test_a_named_file_that_is_missing_or_empty_is_an_error_before_any_model(tmp_path):
    with pytest.raises(EmokitError, match="does not exist"):
        collect_inputs([tmp_path / "missing.png"])
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(EmokitError, match="empty file"):
        collect_inputs([tmp_path / "empty.jpg"])


def test_faces_are_batched_across_images_with_the_same_answers(album, pipeline):
    paths = collect_inputs([album]).images
    batched = list(predict_files(pipeline, paths, batch_size=64))
    calls_batched = list(pipeline.runtime.calls)
    pipeline.runtime.calls.clear()
    alone = list(predict_files(pipeline, paths, batch_size=1))
    per_image = [len(r.faces) for r in batched if isinstance(r, ImageResult)]
    assert sum(per_image) >= 3 and calls_batched == [sum(per_image)]  # every face of every image: one runtime call
    assert pipeline.runtime.calls == [n for n in per_image if n]  # batch 1: a call per image with a face
    assert [type(r) for r in batched] == [type(r) for r in alone]
    for one, other in zip(batched, alone):
        assert one.path == other.path
        if isinstance(one, ImageResult):
            assert [f.box for f in one.faces] == [f.box for f in other.faces]
            for f, g in zip(one.faces, other.faces):
                assert f.probabilities == pytest.approx(g.probabilities, abs=1e-6)


def test_files_that_are_not_images_are_skipped_in_order_and_named(album, pipeline):
    results = list(predict_files(pipeline, collect_inputs([album]).images, batch_size=2))
    names = [(r.path.name, type(r).__name__) for r in results]
    assert names == [("a.png", "ImageResult"), ("b.jpg", "ImageResult"), ("empty.png", "Skipped"),
                     ("notes.txt", "Skipped"), ("broken.jpg", "Skipped"), ("c.png", "ImageResult"),
                     ("wall.png", "ImageResult")]
    reasons = {r.path.name: r.reason for r in results if isinstance(r, Skipped)}
    assert "empty.png: empty file" in reasons["empty.png"] and "notes.txt: not an image" in reasons["notes.txt"]
    assert "broken.jpg" in reasons["broken.jpg"] and all("\n" not in r for r in reasons.values())
    faces = {r.path.name: len(r.faces) for r in results if isinstance(r, ImageResult)}
    assert faces == {"a.png": 1, "b.jpg": 1, "c.png": 1, "wall.png": 0}


def test_csv_and_jsonl_have_a_row_per_face_and_one_per_image_without_a_face(album, pipeline, tmp_path):
    results = [r for r in predict_files(pipeline, collect_inputs([album]).images) if isinstance(r, ImageResult)]
    with prediction_files(tmp_path / "out.csv", tmp_path / "out.jsonl", pipeline.class_names) as writer:
        for result in results:
            writer.write(result)
    with open(tmp_path / "out.csv", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == csv_columns(["happy", "sad"]) == ["file", "face", "x", "y", "w", "h", "score", "happy", "sad", "emotion"]
    by_file = {Path(r[0]).name: r for r in rows[1:]}
    a = by_file["a.png"]
    face = results[0].faces[0]
    assert a[1:7] == ["1", str(face.box.x), str(face.box.y), str(face.box.w), str(face.box.h), f"{face.score:.4f}"]
    assert float(a[7]) == pytest.approx(face.probabilities["happy"], abs=1e-4) and a[9] == face.emotion
    assert by_file["wall.png"][1:] == [""] * 9
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert len(lines) == len(rows) - 1
    first = lines[0]
    assert first["box"] == [face.box.x, face.box.y, face.box.w, face.box.h] and first["face"] == 1
    assert set(first["probabilities"]) == {"happy", "sad"} and first["emotion"] == face.emotion
    assert lines[-1]["face"] is None and lines[-1]["file"].endswith("wall.png")
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["out.csv", "out.jsonl"]  # no temp files


def test_an_error_while_writing_leaves_the_old_file_as_it_was(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("earlier results\n")
    with pytest.raises(RuntimeError):
        with prediction_files(target, None, ["happy"]) as writer:
            writer.rows = 1
            raise RuntimeError("interrupted")
    assert target.read_text() == "earlier results\n" and [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_a_folder_needs_an_output_file_and_says_so_before_the_model_loads(album, tmp_path, capsys):
    model = tmp_path / "model.onnx"
    model.write_bytes(b"never loaded")
    code, out, err = run_cli(capsys, "predict", str(model), str(album))
    assert code == 2 and "is a folder: to predict every image in it, add --csv FILE" in " ".join(err.split())


# -- the command, on the real trained run ----------------------------------------------------------------------


@pytest.mark.slow
def test_predict_a_folder_to_csv_and_jsonl(trained_run, album, tmp_path, capsys):
    out_csv, out_jsonl = tmp_path / "out" / "faces.csv", tmp_path / "out" / "faces.jsonl"
    code, out, err = run_cli(capsys, "predict", str(trained_run.path), str(album), "--csv", str(out_csv),
                             "--jsonl", str(out_jsonl), "--backend", "torch", "--batch", "2")
    assert code == 0, err  # files in a folder that are not images are not the user's error
    text = " ".join(err.split())
    assert "3 faces in 4 images written to" in text
    assert "Skipped 3 of 7 files" in text and "notes.txt: not an image" in text and "empty.png" in text
    classes = list(trained_run.spec().class_names)
    with open(out_csv, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["file", "face", "x", "y", "w", "h", "score", *classes, "emotion"]
    faces = [r for r in rows if r["face"]]
    assert len(faces) == 3 and len(rows) == 4
    for row in faces:
        assert row["emotion"] in classes and abs(sum(float(row[c]) for c in classes) - 1) < 1e-3
        assert int(row["w"]) > 50 and 0 < float(row["score"]) <= 1
    lines = [json.loads(line) for line in out_jsonl.read_text().splitlines()]
    assert [(Path(l["file"]).name, l["face"]) for l in lines] == [(Path(r["file"]).name, int(r["face"]) if r["face"] else None)
                                                                  for r in rows]


@pytest.mark.slow
def test_mixed_files_and_folders_without_detection_as_json(trained_run, tmp_path, capsys):
    from emokit_plugins.synthetic_faces import draw_face

    rng = np.random.default_rng(0)
    crops = tmp_path / "crops"
    for i in range(5):
        write_rgb(crops / f"face{i}.png", draw_face(rng, 3, (48, 48), 1))
    single = write_rgb(tmp_path / "one.png", draw_face(rng, 3, (48, 48), 1))
    code, out, err = run_cli(capsys, "predict", str(trained_run.path), str(single), str(crops), "--no-detect", "--json",
                             "--backend", "torch")
    assert code == 0, err
    results = json.loads(out)
    assert [Path(r["image"]).name for r in results] == ["one.png", *(f"face{i}.png" for i in range(5))]
    assert all(len(r["faces"]) == 1 for r in results)
