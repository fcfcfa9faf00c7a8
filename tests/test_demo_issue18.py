"""Issue #18, the demo: the default run can answer, the page and `emokit demo` say what answers, no image
stays on disk (not even after `kill -9`), and concurrent users with the same photo are all answered."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest

from emokit.demo.engine import run_choices
from emokit.demo.runs_view import answering_markdown, choice_label, run_markdown
from emokit.runs import Run


def fake_run(root: Path, name: str, *, weights: bool, state: str = "completed", dataset: str = "synthetic",
             accuracy: float | None = 0.9952) -> Run:
    """A run folder with the files the run picker reads (no model: nothing here loads one)."""
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"arch": "small_cnn", "data": None if dataset == "synthetic" else "fer2013.zip"}))
    (folder / "spec.json").write_text("{}")
    (folder / "status.json").write_text(json.dumps({"state": state}))
    (folder / "metadata.json").write_text(json.dumps({"dataset": dataset, "dataset_source": "synthetic" if dataset == "synthetic" else "fer2013.zip"}))
    if weights:
        (folder / "model.weights.h5").write_bytes(b"weights")
    if accuracy is not None:
        (folder / "metrics.json").write_text(json.dumps({"dataset": dataset, "splits": {"test": {"accuracy": accuracy}}}))
    time.sleep(0.02)  # runs are ordered by their config's time
    return Run(folder)


def test_the_default_run_is_the_newest_that_can_answer_and_the_others_say_why(tmp_path):
    fake_run(tmp_path, "a-done", weights=True)
    fake_run(tmp_path, "b-training", weights=False, state="running", accuracy=None)
    choice = run_choices(tmp_path)
    assert choice.names == ["b-training", "a-done"]  # still listed, newest first
    assert choice.selected == "a-done"
    assert "no trained weights yet" in choice.unusable["b-training"] and "running" in choice.unusable["b-training"]
    assert "cannot answer: no trained weights yet" in choice_label(choice.runs["b-training"], choice.unusable["b-training"])
    assert run_choices(tmp_path, "b-training").selected == "b-training"  # asked for by name: opened, and it says why


def test_the_page_says_what_answers_and_plainly_when_it_is_synthetic(tmp_path):
    synthetic = fake_run(tmp_path, "synth", weights=True)
    real = fake_run(tmp_path, "real", weights=True, dataset="fer2013", accuracy=0.6721)
    label = choice_label(synthetic, None)
    assert "synthetic faces" in label and "test accuracy 99.5%" in label
    panel = answering_markdown(synthetic, "litert")
    assert "trained on synthetic faces" in panel and "99.5% on synthetic faces" in panel and "runtime litert" in panel
    assert "Synthetic model" in panel and "says little about real photos" in panel
    assert "synthetic faces" in run_markdown(synthetic).split("| split")[0]  # the Runs tab's table is labelled too
    real_panel = answering_markdown(real, "keras+torch")
    assert "fer2013" in real_panel and "test accuracy 67.2%" in real_panel and "keras+torch" in real_panel
    assert "Synthetic" not in real_panel and "fer2013" in choice_label(real, None)


HOLD_TEMP_DIR = """
import sys, time
from pathlib import Path
from emokit.demo.launch import claim_temp_dir
folder, _ = claim_temp_dir(Path(sys.argv[1]))
(folder / "gradio").mkdir()
(folder / "gradio" / "upload.jpg").write_bytes(b"a user's photo")
print(folder, flush=True)
time.sleep(600)
"""


def test_a_killed_demos_temp_folder_is_deleted_by_the_next_demo_and_a_live_ones_is_not(tmp_path):
    from emokit.demo.launch import claim_temp_dir

    def hold() -> tuple[subprocess.Popen, Path]:
        process = subprocess.Popen([sys.executable, "-c", HOLD_TEMP_DIR, str(tmp_path)], stdout=subprocess.PIPE, text=True)
        return process, Path(process.stdout.readline().strip())

    killed, killed_dir = hold()
    alive, alive_dir = hold()
    try:
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(10)
        assert (killed_dir / "gradio" / "upload.jpg").exists()  # kill -9 runs no cleanup
        mine, lock = claim_temp_dir(tmp_path)  # what the next `emokit demo` does first
        os.close(lock)
        assert not killed_dir.exists()
        assert (alive_dir / "gradio" / "upload.jpg").exists() and mine.exists()
    finally:
        alive.kill()
        alive.wait(10)


def test_the_sweep_keeps_an_upload_until_its_last_request_has_read_it(tmp_path, monkeypatch):
    """Gradio's own sweep on the real app: the same photo uploaded by two users stays until both read it."""
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    from gradio.data_classes import ImageData
    from gradio.route_utils import delete_files_created_by_app

    from emokit.demo.app import build_demo
    from emokit.demo.components import UploadLedger

    demo = build_demo(tmp_path / "no-runs")
    upload = next(b for b in demo.blocks.values() if getattr(b, "elem_id", None) == "photo-input")
    photo = tmp_path / "gradio" / "0123abcd" / "face.jpg"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(b"a user's photo")
    for _ in range(2):  # what Gradio's upload route does for each of two identical uploads
        demo.upload_file_set.update([str(photo)])

    def sweep() -> None:  # age 0: everything not kept goes
        delete_files_created_by_app(demo, age=0)

    sweep()
    assert photo.exists()
    assert upload.preprocess(ImageData(path=str(photo))) == b"a user's photo"
    sweep()
    assert photo.exists()  # the second user's request has not read it yet
    assert upload.preprocess(ImageData(path=str(photo))) == b"a user's photo"
    sweep()
    assert not photo.exists()
    ledger = UploadLedger(max_wait_s=0.05)  # an upload no request ever reads is not kept for long
    ledger.uploaded([str(photo)])
    assert list(ledger) == [str(photo)]
    time.sleep(0.1)
    assert list(ledger) == []


# --- The real app served in this process (gradio_client against 127.0.0.1), on a real trained run. ---

gradio_client = pytest.importorskip("gradio_client")
#: Seconds an upload stays on disk in these tests: the sweep must have run before the end of a test.
FORGET_AFTER_S = 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def served(trained_run, tmp_path_factory):
    """(client, runs folder, Gradio's upload folder): the demo on a folder with the trained run and a newer run
    still training (no weights yet)."""
    folder = tmp_path_factory.mktemp("demo-issue18")
    runs = folder / "runs"
    shutil.copytree(trained_run.path, runs / trained_run.name, ignore=shutil.ignore_patterns("checkpoint"))
    in_progress = runs / "zz-still-training"
    in_progress.mkdir()
    for name in ("config.json", "spec.json"):
        shutil.copyfile(trained_run.path / name, in_progress / name)
    (in_progress / "status.json").write_text(json.dumps({"state": "running", "epoch": 0}))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADIO_TEMP_DIR", str(folder / "gradio"))
        patch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
        from emokit.demo.app import build_demo
        from emokit.demo.launch import local_theme

        demo = build_demo(runs, forget_after_s=FORGET_AFTER_S)
        demo.queue(max_size=64)
        demo.launch(server_name="127.0.0.1", server_port=_free_port(), prevent_thread_lock=True, quiet=True,
                    ssr_mode=False, theme=local_theme(), max_file_size="5mb")
        try:
            yield gradio_client.Client(demo.local_url, verbose=False, download_files=False), runs, folder / "gradio"
        finally:
            demo.close()


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """Eleven photos of a face: the same face shifted, so each is a distinct file."""
    from skimage import data

    folder = tmp_path_factory.mktemp("photos")
    face = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)
    paths = []
    for i in range(11):
        path = folder / f"face-{i}.jpg"
        cv2.imwrite(str(path), np.roll(face, 4 * i, axis=1))
        paths.append(path)
    return paths


def analyze(client, path: Path, run: str):
    return client.predict(gradio_client.handle_file(str(path)), run, api_name="/analyze")


def image_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


@pytest.mark.slow
def test_concurrent_users_are_all_answered_and_no_photo_stays(served, photos, trained_run):
    client, _, uploads = served

    def one(i: int, same: bool) -> str:
        try:
            return analyze(client, photos[0] if same else photos[1 + i % 10], trained_run.name)[2]
        except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
            return f"FAILED: {exc}"

    with ThreadPoolExecutor(10) as pool:
        statuses = list(pool.map(lambda i: one(i, True), range(30))) + list(pool.map(lambda i: one(i, False), range(20)))
    failed = [s for s in statuses if not s.startswith("Found 1 face")]
    assert failed == [], f"{len(failed)} of {len(statuses)} failed, e.g. {failed[:2]}"
    deadline = time.monotonic() + FORGET_AFTER_S + 10
    while image_files(uploads) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert image_files(uploads) == []


@pytest.mark.slow
def test_a_run_still_training_is_listed_not_chosen_and_does_not_blame_the_photo(served, photos, trained_run):
    client, _, _ = served
    info, summary, *_ = client.predict(trained_run.name, api_name="/run")
    assert f"run {trained_run.name}" in info and "trained on synthetic faces" in info
    assert "test accuracy" in info and "runtime keras+" in info or "runtime litert" in info
    _, _, status, *_ = analyze(client, photos[0], "zz-still-training")
    assert "Cannot analyse this file" not in status
    assert "cannot answer" in status and "no trained weights yet" in status
