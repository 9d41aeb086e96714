"""The analysts' web page (``tools/web_demo.py``): drop an image or a video into a browser,
see the forged region, the heat map and the fake probability, for a video the score of
every sampled frame and the frames that score highest, and download the prediction files
``tools/infer.py`` would write for it.

:mod:`.analysis` is what the page does with a file (no Gradio); :mod:`.page` builds the
page and :mod:`.server` serves it (Gradio, imported when the page is built).
"""
from .analysis import PageResult, analyse_file, analyse_upload, zip_predictions
from .page import build_page, for_display, frame_curve
from .server import LOOPBACK_HOSTS, check_address, launch_page

__all__ = ['PageResult', 'analyse_file', 'analyse_upload', 'zip_predictions', 'build_page',
           'for_display', 'frame_curve', 'LOOPBACK_HOSTS', 'check_address', 'launch_page']
