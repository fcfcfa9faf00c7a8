"""The Gradio demo: photos, a live webcam and the runs folder in one local web app.

Photos and webcam frames go through the one frame pipeline, :class:`emokit.inference.frames.FramePipeline`
(detect, track, crop, classify, annotate), as ``emokit predict`` does. Importing this package loads
nothing heavy: Gradio is imported by :mod:`emokit.demo.app` and :mod:`emokit.demo.launch`, Keras only
when a run's model is first needed. Modules:

* :mod:`~emokit.demo.saliency` - occlusion saliency (backend-neutral)
* :mod:`~emokit.demo.engine` - models loaded once per run, the runs offered, the demo's detection settings
* :mod:`~emokit.demo.stream` - the webcam stream handler and its frames-per-second meter
* :mod:`~emokit.demo.components` - image components that keep no user image on disk
* :mod:`~emokit.demo.runs_view` - a run's metrics and curves as Markdown and an image
* :mod:`~emokit.demo.app` - ``build_demo(...) -> gr.Blocks``, the factory
* :mod:`~emokit.demo.launch` - ``launch_demo(...)`` with safe defaults
"""

#: Seconds an uploaded photo or webcam frame stays on disk after a request last read it (the page
#: shows the uploaded photo from the server meanwhile); then Gradio's sweep deletes it.
FORGET_AFTER_S = 30
