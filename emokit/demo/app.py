"""``build_demo(...) -> gr.Blocks``: the demo app's layout and event wiring (nothing runs at import).

Tabs: **Photo** (upload or paste; every face boxed and labelled, per-face probability bars, an
occlusion-saliency overlay, example photos, a test-time augmentation choice with its measured cost), **Webcam** (live stream with annotated frames, the
main face's probabilities and frames per second), **Video** (an uploaded video analysed as ``emokit predict MODEL
clip.mp4 --out DIR`` does: its annotated copy to play, a timeline and the three files to download) and **Runs** (metrics and curves of the run
chosen in the dropdown above the tabs; that run's model also serves the other tabs). The dropdown offers
the bundled model (``fer2013``) first; the panel above the tabs always says which model answers and how
accurate it is (a synthetic-trained run is labelled so).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import gradio as gr
import numpy as np

from emokit.demo.components import UploadLedger, inline_image, private_upload, track_uploads
from emokit.demo.engine import (
    PHOTO_DETECT_WIDTH,
    STREAM_DETECT_WIDTH,
    STREAM_DETECTOR_OPTIONS,
    ModelCache,
    RunChoice,
    chosen_model,
    no_runs_message,
    run_choices,
)
from emokit.demo import FORGET_AFTER_S
from emokit.demo.runs_view import (
    answering_facts,
    answering_markdown,
    choice_label,
    model_answering_markdown,
    model_choice_label,
    model_facts,
    model_markdown,
    run_markdown,
    run_plot,
)
from emokit.demo.saliency import occlusion_map
from emokit.demo.stream import StreamHandler, StreamState
from emokit.demo.video_tab import VideoAnalyzer
from emokit.errors import EmokitError
from emokit.faces import DetectorChoice, parse_detector
from emokit.inference.annotate import as_rgb, overlay_heat
from emokit.inference.runtimes import check_runtime
from emokit.inference.frames import FrameAnalysis, FramePipeline, detector_pool, runtime_label
from emokit.inference.runtime import Runtime
from emokit.inference.tta import TTA_MODES, with_tta
from emokit.inference.video import VIDEO_DETECTOR_OPTIONS
from emokit.registry import Registry, build_registry
from emokit.runs import find_run

#: Probability bars are shown for at most this many faces (largest first); all faces are boxed.
MAX_FACE_LABELS = 4
#: Displayed photos are shrunk to this width at most (a 4000-pixel photo would be a 2 MB response).
DISPLAY_WIDTH = 1280
#: Seconds between webcam frames the browser offers; it skips a frame while one is being answered.
STREAM_EVERY = 0.05
#: Seconds of streaming before the server ends the stream (press Record again to go on).
TIME_LIMIT = 600
#: Model inputs per face of each test-time augmentation mode: what it costs, before any measurement.
TTA_CALLS = {"none": 1, "flip": 2, "ten-crop": 10}
TTA_INFO = ("Average each face's answer over views of it: none (1 model input per face), flip (2: with its "
            "mirror image), ten-crop (10: corner and centre crops, each mirrored). More views: slower, often slightly more accurate.")


def sweep_schedule(forget_after_s: int) -> tuple[int, int]:
    """Gradio's ``delete_cache`` (every, age): files older than ``forget_after_s`` go within a sixth of that more."""
    return max(1, forget_after_s // 6), forget_after_s


def _shrink(image: np.ndarray, width: int = DISPLAY_WIDTH) -> np.ndarray:
    if image.shape[1] <= width:
        return image
    height = max(1, round(image.shape[0] * width / image.shape[1]))
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)


class PhotoAnalyzer:
    """The Photo tab's handler: bytes of an uploaded photo -> annotated photo, saliency, status, bars."""

    def __init__(self, load, detectors, detect_width: int | None = PHOTO_DETECT_WIDTH) -> None:
        self.load = load
        self.detectors = detectors
        self.detect_width = detect_width

    def __call__(self, data: bytes | None, run_name: str | None, tta: str | None = "none"):
        """(annotated, saliency, status Markdown, *MAX_FACE_LABELS label updates); ``tta`` is a mode of
        :data:`~emokit.inference.tta.TTA_MODES`, whose measured cost the status reports."""
        hidden = [gr.Label(value=None, visible=False) for _ in range(MAX_FACE_LABELS)]
        if data is None:
            return None, None, "Upload or paste a photo with a face, or pick an example.", *hidden
        tta = tta or "none"
        try:
            if not run_name:
                raise EmokitError("No trained run to use: train one first (see the Runs tab).")
            if tta not in TTA_MODES:
                raise EmokitError(f"Unknown test-time augmentation '{tta}'. Available: {', '.join(TTA_MODES)}.")
            runtime = self.load(run_name)
        except EmokitError as exc:  # the model's fault, not the photo's: say so
            gr.Warning(str(exc))
            return None, None, f"**This run cannot answer:** {exc}", *hidden
        pipeline = FramePipeline(with_tta(runtime, tta), self.detectors, detect_width=self.detect_width)
        try:
            result = pipeline.analyze(data, source="The upload")
        except EmokitError as exc:
            gr.Warning(str(exc))
            return None, None, f"**Cannot analyse this file:** {exc}", *hidden
        image = result.image
        annotated = pipeline.annotate(image, result, numbered=len(result.faces) > 1)
        if not result.faces:
            message = "No face found. Try a well-lit, frontal face that is not too small in the picture."
            gr.Warning(message)
            return _shrink(annotated), None, message, *hidden
        saliency = self._saliency(image, runtime, result)
        labels = [
            gr.Label(value=face.probabilities, label=f"Face {i + 1}: {face.emotion} (face score {face.score:.2f})", visible=True)
            for i, face in enumerate(result.faces[:MAX_FACE_LABELS])
        ]
        labels += hidden[len(labels):]
        count = len(result.faces)
        status = f"Found {count} face{'s' if count != 1 else ''}: " + ", ".join(
            f"{i + 1}. **{f.emotion}** ({f.probabilities[f.emotion]:.0%})" for i, f in enumerate(result.faces)
        )
        if count > MAX_FACE_LABELS:
            status += f" (probability bars for the {MAX_FACE_LABELS} largest)"
        status += "  \n" + tta_cost(tta, result.timings.get("classify", 0.0), count)
        return _shrink(annotated), _shrink(saliency), status, *labels

    @staticmethod
    def _saliency(image: np.ndarray, runtime: Runtime, result: FrameAnalysis) -> np.ndarray:
        """Occlusion heat maps of each face's top class, laid over the photo where each crop came from."""
        canvas = as_rgb(image)
        for face, model_input, region in zip(result.faces[:MAX_FACE_LABELS], result.batch, result.regions):
            index = list(runtime.class_names).index(face.emotion)
            heat = occlusion_map(runtime.probabilities, model_input, index)
            canvas = overlay_heat(canvas, heat, region)
        return canvas


def tta_cost(mode: str, classify_ms: float, faces: int) -> str:
    """The measured cost of a photo's classification with TTA ``mode``: ms per face and model inputs per face."""
    calls = TTA_CALLS.get(mode, 1)
    per_face = classify_ms / max(faces, 1)
    return (f"Test-time augmentation: **{mode}** · {calls} model input{'s' if calls != 1 else ''} per face (x{calls}) · "
            f"classification took {per_face:.1f} ms per face")


def _example_paths(examples: Sequence[Path] | None) -> list[str]:
    return [str(p) for p in (examples or []) if Path(p).is_file()]


def run_dropdown_choices(choice: RunChoice) -> list[tuple[str, str]]:
    """(label, key) pairs for the model picker: each bundled model with its data and accuracy, then each run
    with its data and test accuracy, or why it cannot answer."""
    return [(model_choice_label(choice.models[name]) if name in choice.models
             else choice_label(choice.runs[name], choice.unusable.get(name)), name) for name in choice.names]


def serving_line(choice: RunChoice, models: ModelCache) -> str:
    """One line for the terminal: which model answers (bundled model or run, its data, accuracy, runtime),
    loading it now; or why none can."""
    if choice.selected is None:
        if not choice.names:
            return f"No trained runs in {choice.root} yet: train one with `emokit train` and press Refresh runs."
        reasons = "; ".join(f"{name}: {reason}" for name, reason in list(choice.unusable.items())[:3])
        return f"No run in {choice.root} can answer yet ({reasons})."
    try:
        model = chosen_model(choice, choice.selected)
        runtime = models.get(model)
    except EmokitError as exc:
        return f"The chosen run cannot answer: {exc}"
    if choice.selected in choice.models:
        return f"Serving {model_facts(model, runtime_label(runtime))}."
    return f"Serving {answering_facts(choice.runs[choice.selected], runtime_label(runtime))}."


def build_demo(
    runs_root: Path | None = None,
    run: str | None = None,
    *,
    registry: Registry | None = None,
    models: ModelCache | None = None,
    detector: str | DetectorChoice = "haar",
    backend: str | None = None,
    runtime: str = "auto",
    examples: Sequence[Path] | None = None,
    stream_every: float = STREAM_EVERY,
    time_limit: int = TIME_LIMIT,
    stream_detect_width: int | None = STREAM_DETECT_WIDTH,
    forget_after_s: int = FORGET_AFTER_S,
) -> gr.Blocks:
    """Build (not launch) the demo for the bundled models and the runs in ``runs_root``, opening ``run`` (a
    bundled model's name, a run's name or path, ``latest``) or the default: the newest usable run trained on
    real data, else the bundled model, else the newest run that can answer.

    Models are loaded on first use, once per run, on ``backend`` (Keras' choice when None), or
    from the run's LiteRT export (``emokit export``) where ``runtime`` allows it; ``models`` shares
    a cache the caller already warmed (``emokit demo`` loads the default run's model before serving).
    ``examples`` are photo files offered under the Photo tab. Every upload and webcam frame Gradio
    stores is deleted ``forget_after_s`` seconds after a request last read it (one no request reads,
    :data:`~emokit.demo.components.MAX_WAIT_S` after it arrived), and all of them when the demo stops. Launch with :func:`emokit.demo.launch.launch_demo`, which applies the privacy settings.
    """
    registry = registry or build_registry()
    chosen = parse_detector(registry, detector)  # an unknown detector or a bad option fails now, not on the first photo
    detectors = detector_pool(registry, chosen)
    choice = run_choices(runs_root, run, registry)
    check_runtime(registry, runtime)  # a typo fails now, not on the first frame
    models = models or ModelCache(registry, backend, runtime=runtime)

    def load(name: str) -> Runtime:
        return models.get(chosen_model(choice, name))

    photo = PhotoAnalyzer(load, detectors)
    stream = StreamHandler(load, detector_pool(registry, chosen, STREAM_DETECTOR_OPTIONS), stream_detect_width)
    video = VideoAnalyzer(load, detector_pool(registry, chosen, VIDEO_DETECTOR_OPTIONS))
    example_files = _example_paths(examples)

    def show_run(name: str | None):
        if not name:
            return "", no_runs_message(choice.root), None, None
        if name in choice.models:
            record = choice.models[name]
            try:
                return model_answering_markdown(record, runtime_label(load(name))), model_markdown(record), None, None
            except EmokitError as exc:
                return f"**This model cannot answer:** {exc}", model_markdown(record), None, None
        try:
            selected = find_run(name, choice.root)
            views = run_markdown(selected), run_plot(selected, "curves"), run_plot(selected, "confusion_test")
        except EmokitError as exc:
            return f"**{exc}**", f"**{exc}**", None, None
        try:  # what answers: data, accuracy and the runtime, which loading the model decides
            return answering_markdown(selected, runtime_label(load(name))), *views
        except EmokitError as exc:
            return f"**This run cannot answer:** {exc}", *views

    def refresh(current: str | None):
        fresh = run_choices(choice.root, None, registry)
        value = current if current in fresh.names else fresh.selected
        notice = gr.Markdown(no_runs_message(choice.root), visible=not fresh.names)
        return gr.Dropdown(choices=run_dropdown_choices(fresh), value=value), notice

    with gr.Blocks(title="emokit demo", analytics_enabled=False, delete_cache=sweep_schedule(forget_after_s)) as demo:
        gr.Markdown("# emokit · facial emotion recognition\nEverything runs on this machine; photos and frames are "
                    f"deleted from it within {forget_after_s + sweep_schedule(forget_after_s)[0]} s of being analysed.")
        with gr.Row(equal_height=True):
            run_box = gr.Dropdown(
                choices=run_dropdown_choices(choice), value=choice.selected, label="Run (model)", scale=4,
                elem_id="run-select",
                info=(f"The bundled model, then the runs in {choice.root}, newest first. Chosen by default: your newest "
                      "run trained on real data, else the bundled model"
                      if choice.models else f"Runs in {choice.root}, newest first; the newest that can answer is chosen"),
            )
            refresh_button = gr.Button("Refresh runs", scale=1, elem_id="refresh-runs")
        run_info = gr.Markdown(elem_id="run-info")
        notice = gr.Markdown(no_runs_message(choice.root), visible=not choice.names, elem_id="no-runs")

        with gr.Tabs():
            with gr.Tab("Photo", id="photo"):
                with gr.Row():
                    with gr.Column():
                        upload = private_upload(
                            label="Photo", sources=["upload", "clipboard"], type="filepath", elem_id="photo-input",
                        )
                        tta = gr.Radio(list(TTA_MODES), value="none", label="Test-time augmentation", info=TTA_INFO,
                                       elem_id="photo-tta")
                        if example_files:
                            gr.Examples(example_files, inputs=upload, label="Example photos")
                    with gr.Column():
                        annotated = inline_image(label="Faces", interactive=False, elem_id="photo-output")
                        status = gr.Markdown(elem_id="photo-status")
                with gr.Row():
                    face_labels = [
                        gr.Label(num_top_classes=7, visible=False, elem_id=f"face-label-{i}") for i in range(MAX_FACE_LABELS)
                    ]
                saliency = inline_image(
                    label="What drove each prediction (occlusion saliency: red = hiding this lowers the predicted emotion most)",
                    interactive=False, elem_id="photo-saliency",
                )
                upload.change(photo, [upload, run_box, tta], [annotated, saliency, status, *face_labels], api_name="analyze",
                              concurrency_limit=2)
                tta.change(photo, [upload, run_box, tta], [annotated, saliency, status, *face_labels],
                           api_visibility="private", concurrency_limit=2)

            with gr.Tab("Webcam", id="webcam"):
                with gr.Row():
                    with gr.Column():
                        # Gradio mirrors webcam frames by default, in the preview AND in the frames it sends;
                        # we keep that (a selfie view) and draw labels on the mirrored frame, so text reads normally.
                        camera = gr.Image(
                            sources=["webcam"], streaming=True, type="numpy", label="Webcam", elem_id="webcam-input",
                            webcam_options=gr.WebcamOptions(mirror=True),
                        )
                    with gr.Column():
                        live = inline_image(label="Live", interactive=False, elem_id="webcam-output")
                        live_label = gr.Label(num_top_classes=7, label="Main face", elem_id="webcam-label")
                        live_status = gr.Markdown("Press Record to start the webcam.", elem_id="webcam-status")
                state = gr.State(StreamState())
                camera.stream(
                    stream, [camera, run_box, state], [live, live_label, live_status, state],
                    stream_every=stream_every, time_limit=time_limit, concurrency_limit=4, api_name="stream",
                    show_progress="hidden",
                )

            with gr.Tab("Video", id="video"):
                with gr.Row():
                    with gr.Column():
                        clip = gr.Video(sources=["upload"], label="Video", elem_id="video-input")
                        with gr.Row():
                            every = gr.Slider(1, 10, value=1, step=1, label="Analyse every Nth frame",
                                              info="The frames between carry its answer: about N times faster.",
                                              elem_id="video-every")
                            smooth = gr.Slider(0, 15, value=0, step=1, label="Smooth over the last N answers",
                                               info="Each face's probabilities averaged over its last N analysed frames "
                                                    "(0: none).", elem_id="video-smooth")
                        analyse = gr.Button("Analyse video", variant="primary", elem_id="video-run")
                    with gr.Column():
                        clip_out = gr.Video(label="Annotated (each face with its id)", interactive=False,
                                            elem_id="video-output")
                        clip_status = gr.Markdown(elem_id="video-status")
                timeline = inline_image(label="Emotion over time, per face", interactive=False, elem_id="video-timeline")
                clip_files = gr.File(label=f"Files to download (deleted from this machine about {forget_after_s} s "
                                           "after they appear)", file_count="multiple", interactive=False,
                                     elem_id="video-files")
                analyse.click(video.analyze, [clip, run_box, every, smooth], [clip_out, timeline, clip_files, clip_status],
                              api_name="analyze_video", concurrency_limit=1)

            with gr.Tab("Runs", id="runs"):
                summary = gr.Markdown(elem_id="run-summary")
                with gr.Row():
                    curves = inline_image(label="Training curves", interactive=False, elem_id="run-curves")
                    confusion = inline_image(label="Confusion matrix (test)", interactive=False, elem_id="run-confusion")

        run_box.change(show_run, run_box, [run_info, summary, curves, confusion], api_name="run")
        refresh_button.click(refresh, run_box, [run_box, notice], api_name="refresh_runs")
        demo.load(show_run, run_box, [run_info, summary, curves, confusion], api_visibility="private")
    track_uploads(demo, UploadLedger(), upload, camera, clip)
    return demo
