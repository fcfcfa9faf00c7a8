"""``emokit predict``: the faces in images, folders and videos, each with per-face probabilities and the top emotion.

* images: a table (or ``--json``), or rows in ``--csv`` / ``--jsonl`` files (folders need one of these);
* folders: searched recursively; their unreadable and non-image files are skipped, counted and named;
* videos (``--out DIR``): an annotated video, a per-frame CSV and a timeline PNG per video.

Every argument is checked before the model loads; a bad file among several is named and the rest still run.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import typer
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from emokit.cli.common import console, console_err, registry_with_warnings, usable_run
from emokit.errors import EmokitError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from emokit.inference.folders import ImageResult, Inputs, Skipped
    from emokit.inference.prediction import Predictor
    from emokit.inference.video import VideoSettings
    from emokit.records import ModelRecord
    from emokit.registry import Registry
    from emokit.runs import Run


@dataclass
class _Outcome:
    """What a prediction did: files analysed, and those skipped (named on stderr at the end)."""

    analysed: int = 0
    skipped: list[Skipped] = field(default_factory=list)


def predict_command(
    arguments: list[str] = typer.Argument(..., metavar="[MODEL] INPUTS...",
                                          help="The model, optional: a bundled model's name (default: the model emokit ships), a run path or name (or `latest`), or an exported model file (RUN/model.onnx, RUN/model.tflite); then image files, folders of images (searched recursively) and video files, mixed as you like."),
    detector: str = typer.Option("haar", "--detector", metavar="NAME[=key=value,...]",
                                 help="Face detector plugin and its options, e.g. haar=scale_factor=1.2,min_neighbors=3 (`emokit plugins` lists them)."),
    no_detect: bool = typer.Option(False, "--no-detect", help="Treat each whole image as one cropped face."),
    backend: Optional[str] = typer.Option(None, "--backend"),
    runtime: Optional[str] = typer.Option(None, "--runtime", help="keras, litert or onnx (the run's `emokit export`), any runtime a plugin adds, or auto (the run's fastest current export, else keras). Default: keras for a run; a bundled model's or an exported file's own runtime."),
    tta: str = typer.Option("none", "--tta", help="Test-time augmentation: none, flip or ten-crop (see `emokit evaluate --help`)."),
    runs: Optional[Path] = typer.Option(None, "--runs", help="Runs folder."),
    json_out: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
    csv_out: Optional[Path] = typer.Option(None, "--csv", metavar="FILE",
                                           help="Write one row per face (file, face, box, score, probabilities, emotion) to this CSV file."),
    jsonl_out: Optional[Path] = typer.Option(None, "--jsonl", metavar="FILE", help="Write the same rows as JSON Lines."),
    out_dir: Optional[Path] = typer.Option(None, "--out", metavar="DIR",
                                           help="For videos: write the annotated video, per-frame CSV and timeline PNG here."),
    batch: int = typer.Option(64, "--batch", min=1, help="Faces classified per runtime call, across images."),
    every: int = typer.Option(1, "--every", min=1, help="Videos: analyse every Nth frame; the frames between carry its answer."),
    smooth: int = typer.Option(0, "--smooth", min=0, help="Videos: smooth each face's probabilities over its last N answers (0: none)."),
    smooth_kind: str = typer.Option("mean", "--smooth-kind", help="Videos: mean (moving average) or ema (exponential, span N)."),
) -> None:
    """Find the faces in images, folders and videos and predict each one's emotion (with the detector's score per face)."""
    from emokit.faces import parse_detector  # noqa: PLC0415
    from emokit.inference.folders import collect_inputs  # noqa: PLC0415
    from emokit.inference.prediction import check_prediction, open_predictor  # noqa: PLC0415
    from emokit.inference.source import split_model_argument  # noqa: PLC0415
    from emokit.inference.threads import prefer_one_math_thread  # noqa: PLC0415
    from emokit.inference.video import VideoSettings  # noqa: PLC0415
    from emokit.runs import Run  # noqa: PLC0415

    registry = registry_with_warnings()
    # Checked first: a mistyped option is an argument error, reported before the run is even looked up.
    choice = None if no_detect else parse_detector(registry, detector)
    named, rest = split_model_argument(arguments, registry, runs)
    if not rest:
        raise EmokitError("No inputs: emokit predict [MODEL] INPUTS... (photos, folders, videos; without MODEL the bundled model answers).")
    images = [Path(p) for p in rest]
    model = model_for(named, runs, registry)
    setup = check_prediction(model, registry, detector=choice, backend=backend,
                             runtime=runtime or ("keras" if isinstance(model, Run) else "auto"), tta=tta)
    settings = VideoSettings(every, smooth, smooth_kind).check()
    folders = [path for path in images if path.is_dir()]
    if folders and not (csv_out or jsonl_out or json_out):  # before searching them: a folder may hold thousands of files
        raise EmokitError(f"Image '{folders[0]}' is a folder: to predict every image in it, add --csv FILE or --jsonl FILE (or --json).")
    inputs = collect_inputs(images)
    check_outputs(inputs, csv_out, jsonl_out, out_dir)
    outcome = _Outcome()
    if out_dir is None:  # videos found in folders, with nowhere to write their results
        outcome.skipped += [_skipped(path, f"{path}: a video; add --out DIR to analyse videos.") for path in inputs.videos]
        inputs.videos = []
    if not inputs.images and not inputs.videos:
        raise EmokitError(f"No files to analyse in {', '.join(str(p) for p in inputs.folders) or 'the inputs'}.")
    prefer_one_math_thread()  # the user's OMP_NUM_THREADS wins
    predictor = open_predictor(setup, registry)
    if inputs.images:
        predict_image_inputs(predictor, inputs, outcome, batch=batch, csv_out=csv_out, jsonl_out=jsonl_out,
                             json_out=json_out, no_detect=no_detect)
    if inputs.videos:
        predict_videos(predictor, inputs, outcome, out_dir, settings, json_out)
    finish(outcome, inputs)


def model_for(ref: str | None, runs: Path | None, registry: Registry) -> Run | Path | ModelRecord:
    """The model ``ref`` names: a bundled model by its name, an exported file as it is, else a run with
    weights (``latest`` says what it passed over); with no ``ref``, the default (bundled) model.

    The one place the MODEL argument is read.
    """
    from emokit.inference.source import bundled_name, default_model  # noqa: PLC0415

    if ref is None:
        return default_model(registry, runs)
    record = bundled_name(ref, registry)
    if record is not None:
        return record
    return Path(ref) if Path(ref).is_file() else usable_run(ref, runs)


def check_outputs(inputs: Inputs, csv_out: Path | None, jsonl_out: Path | None, out_dir: Path | None) -> None:
    """One-line errors, before the model loads, for inputs with nowhere to put their results."""
    named_videos = [p for p in inputs.videos if p in inputs.named]
    if named_videos and out_dir is None:
        raise EmokitError(f"'{named_videos[0]}' is a video: add --out DIR for its annotated video, per-frame CSV and timeline.")
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        raise EmokitError(f"--out '{out_dir}' is a file; name a folder (it is created if missing).")
    for option, path in (("--csv", csv_out), ("--jsonl", jsonl_out)):
        if path is not None and path.is_dir():
            raise EmokitError(f"{option} '{path}' is a folder; name a file.")


def _skipped(path: Path, reason: str, named: bool = False) -> Skipped:
    from emokit.inference.folders import Skipped  # noqa: PLC0415

    return Skipped(path, reason, named)


@contextmanager
def progress_bar(show: bool) -> Iterator[Progress]:
    """A progress bar on stderr (so ``--json`` output stays clean); drawn only on a terminal."""
    progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[note]}"),
                        TimeElapsedColumn(), TimeRemainingColumn(), console=console_err, transient=True,
                        disable=not (show and console_err.is_terminal))
    with progress:
        yield progress


def predict_image_inputs(predictor: Predictor, inputs: Inputs, outcome: _Outcome, *, batch: int, csv_out: Path | None,
                         jsonl_out: Path | None, json_out: bool, no_detect: bool) -> None:
    """The images' faces: into the CSV / JSON Lines files, and printed as a table or JSON when asked."""
    from emokit.inference.folders import ImageResult, predict_files  # noqa: PLC0415
    from emokit.inference.prediction import face_records  # noqa: PLC0415
    from emokit.inference.prediction_output import prediction_files  # noqa: PLC0415

    pipeline = predictor.pipeline()
    keep = json_out or not (csv_out or jsonl_out)
    kept: list[ImageResult] = []
    faces = 0
    with progress_bar(len(inputs.images) > 1) as progress, \
            prediction_files(csv_out, jsonl_out, pipeline.class_names) as writer:
        task = progress.add_task("images", total=len(inputs.images), note="")
        for result in predict_files(pipeline, inputs.images, batch_size=batch, named=inputs.named,
                                    advance=lambda n: progress.advance(task, n)):
            if not isinstance(result, ImageResult):
                outcome.skipped.append(result)
                continue
            outcome.analysed += 1
            faces += len(result.faces)
            progress.update(task, note=f"{faces} faces")
            writer.write(result)
            if keep:
                kept.append(result)
    written = [str(p) for p in (csv_out, jsonl_out) if p is not None]
    if written:
        console_err.print(f"{faces} faces in {outcome.analysed} images written to {escape(' and '.join(written))}",
                          highlight=False, soft_wrap=True)
    if json_out:
        print(json.dumps([{"image": str(r.path), "faces": face_records(r.faces)} for r in kept], indent=2))
    elif keep:
        print_table([{"image": str(r.path), "faces": face_records(r.faces)} for r in kept], no_detect)


#: Narrower terminals get one "top 3" column instead of a column per emotion (12 columns do not fit 80).
WIDE_TABLE = 120


def print_table(results: list[dict[str, Any]], no_detect: bool) -> None:
    """The faces as a table (a column per emotion, or the top three in a narrow terminal), and a line for each
    image without a face."""
    class_names = None
    wide = console.width >= WIDE_TABLE
    table = Table(title="Predictions", title_justify="left")
    for item in results:
        if class_names is None and item["faces"]:
            class_names = list(item["faces"][0]["probabilities"])
            for column in ("image", "face", "box (x,y,w,h)", "score", "emotion", *(class_names if wide else ["top 3"])):
                table.add_column(column, justify="left" if column in ("image", "emotion", "top 3") else "right",
                                 overflow="fold")
    for item in results:
        if not item["faces"]:
            console.print(f"{item['image']}: no face found" + ("" if no_detect else " (use --no-detect if it is already a cropped face)"))
        for i, face in enumerate(item["faces"]):
            probabilities = face["probabilities"]
            if wide:
                probs = [f"{probabilities[c]:.2f}" for c in class_names]
            else:
                top = sorted(probabilities, key=probabilities.get, reverse=True)[:3]
                probs = [", ".join(f"{name} {probabilities[name]:.2f}" for name in top)]
            table.add_row(item["image"], str(i + 1), ",".join(map(str, face["box"])), f"{face['score']:.2f}",
                          f"[bold]{face['emotion']}[/]", *probs)
    if class_names:
        console.print(table)


def predict_videos(predictor: Predictor, inputs: Inputs, outcome: _Outcome, out_dir: Path, settings: VideoSettings,
                   json_out: bool) -> None:
    """Each video analysed into ``out_dir``; one that cannot be read is named and the others still run."""
    from emokit.inference.video import VIDEO_DETECT_WIDTH, VIDEO_DETECTOR_OPTIONS, analyze_video  # noqa: PLC0415

    pipeline = predictor.pipeline(VIDEO_DETECTOR_OPTIONS, VIDEO_DETECT_WIDTH)
    report = console_err if json_out else console  # --json keeps stdout for the images' JSON
    for path in inputs.videos:
        with progress_bar(True) as progress:
            task = progress.add_task(escape(path.name), total=None, note="")
            try:
                result = analyze_video(pipeline, path, out_dir, settings,
                                       started=lambda reader: progress.update(task, total=reader.frame_count or None),
                                       advance=lambda n: progress.advance(task, n))
            except EmokitError as exc:
                outcome.skipped.append(_skipped(path, str(exc), path in inputs.named))  # named at the end
                continue
        outcome.analysed += 1
        report.print(f"{escape(str(path))}: {result.frames} frames at {result.fps:.1f} fps, analysed at "
                     f"{result.frames_per_second:.1f} frames/s; faces {result.faces_text()}\n  wrote {escape(str(result.annotated))}, "
                     f"{escape(result.csv.name)}, {escape(result.timeline.name)}", highlight=False, soft_wrap=True)


def finish(outcome: _Outcome, inputs: Inputs) -> None:
    """Name the skipped files on stderr (a one-line count, then one line each); exit 2 when nothing could be
    analysed, 1 when a file named on the command line could not be, else 0."""
    skipped = outcome.skipped
    if not skipped:
        return
    if outcome.analysed == 0 and len(skipped) == 1:
        raise EmokitError(skipped[0].reason)  # a single file: one line, as for any other user error
    total = outcome.analysed + len(skipped)
    console_err.print(f"[yellow]Skipped {len(skipped)} of {total} files:[/]",
                      highlight=False, soft_wrap=True)
    for item in skipped:
        console_err.print(f"  {escape(item.reason)}", highlight=False, soft_wrap=True)
    if outcome.analysed == 0:
        raise typer.Exit(2)
    if any(item.named for item in skipped):
        raise typer.Exit(1)
