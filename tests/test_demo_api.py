"""The demo's image endpoint through ``gradio_client`` against the real app (in-process, 127.0.0.1,
a real trained run), and the webcam stream handler called as a function (``gradio_client`` cannot
call streaming endpoints)."""

from __future__ import annotations

import base64
import socket
import time

import cv2
import numpy as np
import pytest

pytestmark = pytest.mark.slow
gradio_client = pytest.importorskip("gradio_client")
pytest.importorskip("skimage")

EXAMPLE_NAMES = {"astronaut.jpg", "two-faces.jpg", "cameraman.jpg"}
#: Seconds uploads stay on disk here (the demo's default is a minute): the sweep runs within the test.
FORGET_AFTER_S = 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _image(url: str) -> np.ndarray:
    data = base64.b64decode(url.split(",", 1)[1])
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


@pytest.fixture(scope="module")
def app(trained_run, tmp_path_factory):
    """The demo served in this process on 127.0.0.1 with a private Gradio temp folder; closed afterwards."""
    folder = tmp_path_factory.mktemp("demo-api")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GRADIO_TEMP_DIR", str(folder / "gradio"))
        patch.setenv("GRADIO_ANALYTICS_ENABLED", "False")
        from emokit.demo.app import build_demo
        from emokit.demo.examples import write_examples
        from emokit.demo.launch import local_theme

        demo = build_demo(trained_run.path.parent, trained_run.name, examples=write_examples(folder / "examples"),
                          forget_after_s=FORGET_AFTER_S)
        demo.queue()
        demo.launch(server_name="127.0.0.1", server_port=_free_port(), prevent_thread_lock=True, quiet=True,
                    ssr_mode=False, theme=local_theme(), max_file_size="5mb")
        try:
            client = gradio_client.Client(demo.local_url, verbose=False, download_files=False)
            yield demo, client, folder
        finally:
            demo.close()


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    from skimage import data

    folder = tmp_path_factory.mktemp("photos")
    paths = {
        "face": folder / "astronaut.png",
        "none": folder / "coffee.png",
        "text": folder / "notes.png",  # a text file named like an image
    }
    cv2.imwrite(str(paths["face"]), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    cv2.imwrite(str(paths["none"]), cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2BGR))
    paths["text"].write_text("not an image at all")
    return paths


def analyze(client, path, run):
    return client.predict(gradio_client.handle_file(str(path)), run.name, api_name="/analyze")


def test_photo_with_a_face_gets_box_label_and_probabilities(app, photos, trained_run):
    _, client, _ = app
    annotated, saliency, status, first, *others = analyze(client, photos["face"], trained_run)
    assert "Found 1 face" in status
    assert _image(annotated["url"]).shape == (512, 512, 3)
    assert _image(saliency["url"]).shape == (512, 512, 3)
    confidences = {c["label"]: c["confidence"] for c in first["value"]["confidences"]}
    assert set(confidences) == set(trained_run.spec().class_names)
    assert sum(confidences.values()) == pytest.approx(1.0, abs=1e-3)
    assert first["visible"] is True and all(o["visible"] is False for o in others)


def test_non_image_and_faceless_photo_get_a_clear_message(app, photos, trained_run):
    _, client, _ = app
    annotated, saliency, status, *_ = analyze(client, photos["text"], trained_run)
    assert annotated is None and "not an image" in status
    annotated, saliency, status, *_ = analyze(client, photos["none"], trained_run)
    assert "No face found" in status and annotated is not None and saliency is None


def test_uploads_are_not_kept_and_analytics_are_off(app, photos, trained_run):
    demo, client, folder = app
    analyze(client, photos["face"], trained_run)
    time.sleep(FORGET_AFTER_S + 2)  # Gradio's sweep deletes uploads this long after they arrive
    kept = {p.name for p in (folder / "gradio").rglob("*") if p.is_file()}
    assert kept <= EXAMPLE_NAMES, kept
    assert demo.analytics_enabled is False


def test_runs_endpoint_shows_metrics(app, trained_run):
    _, client, _ = app
    info, summary, curves, _ = client.predict(trained_run.name, api_name="/run")
    assert trained_run.name in info and "runtime" in info
    assert trained_run.name in summary and "accuracy" in summary
    assert curves is None or curves["url"].startswith("data:image/jpeg")


def test_stream_handler_annotates_frames_and_counts_fps(trained_run):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from browser_utils import webcam_frame

    from emokit.demo.engine import STREAM_DETECTOR_OPTIONS, ModelCache
    from emokit.inference.frames import detector_pool
    from emokit.demo.stream import StreamHandler, StreamState
    from emokit.registry import build_registry
    from emokit.runs import find_run

    registry = build_registry()
    models = ModelCache(registry, "torch")
    handler = StreamHandler(lambda name: models.get(find_run(name, trained_run.path.parent)),
                            detector_pool(registry, "haar", STREAM_DETECTOR_OPTIONS))
    frame = webcam_frame()
    state = StreamState()
    for _ in range(5):
        annotated, probabilities, status, state = handler(frame, trained_run.name, state)
    assert annotated.shape == frame.shape and not np.array_equal(annotated, frame)
    assert set(probabilities) == set(trained_run.spec().class_names)
    assert state.frames == 5 and "fps" in status and "1 face" in status
    blank = np.zeros_like(frame)
    _, probabilities, status, _ = handler(blank, trained_run.name, state)
    assert probabilities is None and "0 faces" in status
    assert handler(None, trained_run.name, state)[0] is None
    _, _, status, _ = handler(frame, "no-such-run", state)
    assert status.startswith("Error:")
