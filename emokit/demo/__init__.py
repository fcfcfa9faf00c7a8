"""The Gradio demo: photos, a live webcam and the runs folder in one local web app.

Importing this package loads nothing heavy: Gradio is imported by :mod:`emokit.demo.app` and
:mod:`emokit.demo.launch`, Keras only when a run's model is first needed. Modules:

* :mod:`~emokit.demo.annotate` - boxes, labels and heat maps drawn with OpenCV
* :mod:`~emokit.demo.saliency` - occlusion saliency (backend-neutral)
* :mod:`~emokit.demo.engine` - models loaded once per run, per-thread face detectors, frame analysis
* :mod:`~emokit.demo.stream` - the webcam stream handler and its frames-per-second meter
* :mod:`~emokit.demo.components` - image components that keep no user image on disk
* :mod:`~emokit.demo.runs_view` - a run's metrics and curves as Markdown and an image
* :mod:`~emokit.demo.app` - ``build_demo(...) -> gr.Blocks``, the factory
* :mod:`~emokit.demo.launch` - ``launch_demo(...)`` with safe defaults
"""
