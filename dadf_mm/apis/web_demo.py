"""The analysts' web page (``tools/web_demo.py``): drop an image or a video into a browser,
see the forged region, the heat map and the fake probability, and for a video the score of
every sampled frame and the frames that score highest.

The analysis (:func:`analyse_file`) is plain numpy and pandas; only :func:`build_page` and
:func:`launch_page` need Gradio, imported when they are called.

An image is read as the dataset reads one (:func:`~dadf_mm.apis.image_files.read_image`:
a truncated JPEG is refused), and one with more pixels than the page's limit is refused
from its header, before it is decoded. Every upload is deleted once it has been analysed
(:func:`analyse_upload`), refused ones included.
"""
import errno
import os
import os.path as osp
import socket
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

import cv2
import numpy as np

from ..preprocessing.frame_sampler import FrameReadError
from .image_files import DEFAULT_MAX_MEGAPIXELS, read_image
from .inference import IMAGE_SUFFIXES, VIDEO_SUFFIXES, ForgeryInferencer, render

#: what the page's file box accepts
ACCEPTED_SUFFIXES = IMAGE_SUFFIXES + VIDEO_SUFFIXES
#: the addresses that reach only this machine
LOOPBACK_HOSTS = ('127.0.0.1', 'localhost', '::1')


@dataclass
class PageResult:
    """What the page shows for one file.

    Attributes:
        score (float): the fake probability of the image, or the mean of the video's
            sampled frames (as ``tools/infer.py`` scores a video).
        verdict (str): ``'FAKE'`` or ``'real'`` with the threshold, e.g.
            ``'FAKE (0.7312 > 0.50)'``.
        overlay (np.ndarray): RGB picture with the forged region in red (for a video, of
            its highest-scoring frame).
        heatmap (np.ndarray): RGB picture of the per-pixel fake probability.
        details (str): a Markdown summary.
        frame_scores (list[tuple[int, float]]): ``(frame index, fake probability)`` of
            every sampled frame, in frame order; empty for an image. Defaults to an
            empty list.
        top_frames (list[tuple[np.ndarray, str]]): RGB overlays of the ``top_k``
            highest-scoring frames with their captions, highest first; empty for an image.
            Defaults to an empty list.
    """

    score: float
    verdict: str
    overlay: np.ndarray
    heatmap: np.ndarray
    details: str
    frame_scores: List[Tuple[int, float]] = field(default_factory=list)
    top_frames: List[Tuple[np.ndarray, str]] = field(default_factory=list)

    @property
    def is_video(self) -> bool:
        """bool: Whether the result is a video's (it has frame scores)."""
        return bool(self.frame_scores)


def verdict(score: float, threshold: float) -> str:
    """``'FAKE (s > t)'`` or ``'real (s <= t)'``, the decision ``tools/infer.py`` makes.

    Args:
        score (float): The fake probability.
        threshold (float): The threshold of the decision.

    Returns:
        str: E.g. ``'FAKE (0.7312 > 0.50)'``.
    """
    if score > threshold:
        return f'FAKE ({score:.4f} > {threshold:.2f})'
    return f'real ({score:.4f} <= {threshold:.2f})'


def _rgb(image_bgr: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image_bgr[..., ::-1])


def analyse_image(inferencer: ForgeryInferencer, image_bgr: np.ndarray, *, name: str,
                  threshold: float, detect_faces: bool = False) -> PageResult:
    """One image (BGR uint8).

    Args:
        inferencer (ForgeryInferencer): the model.
        image_bgr (np.ndarray): the picture, a face crop unless ``detect_faces``.
        name (str): its name; it seeds the noisy view, so the same name gives the score
            :meth:`ForgeryInferencer.predict_image` gives.
        threshold (float): the fake-probability threshold of the decision.
        detect_faces (bool): crop the largest face first. Defaults to False.

    Returns:
        PageResult: the score, verdict and pictures.

    Raises:
        ValueError: ``detect_faces`` is set and the picture shows no face.
    """
    pred = inferencer.predict_image(image_bgr, name, detect_faces=detect_faces)
    overlay, heat = render(image_bgr, pred, threshold)
    details = (f'**{osp.basename(name)}**: fake probability {pred.fake_probability:.4f}, '
               f'forged area {100 * pred.forged_area:.1f}% of the face'
               + (f', face box (x, y, side) {tuple(pred.box)}' if pred.box else ''))
    return PageResult(score=pred.fake_probability, verdict=verdict(pred.fake_probability,
                                                                   threshold),
                      overlay=_rgb(overlay), heatmap=_rgb(heat), details=details)


def analyse_video(inferencer: ForgeryInferencer, path: str, *, threshold: float,
                  num_frames: int = 16, top_k: int = 4) -> PageResult:
    """A video: ``num_frames`` evenly spaced frames, each cropped to the tracked face.

    Args:
        inferencer (ForgeryInferencer): the model.
        path (str): the video file.
        threshold (float): the fake-probability threshold of the decision.
        num_frames (int): frames sampled from the video. Defaults to 16.
        top_k (int): how many of the highest-scoring frames to show. Defaults to 4.

    Returns:
        PageResult: the mean score of the frames, the overlay and heat map of the
        highest-scoring frame, every frame's score and the ``top_k`` frames.

    Raises:
        ValueError: no face in any sampled frame, or the video cannot be read.
    """
    try:  # frames named by the file's name, not the upload's, as images are
        video = inferencer.predict_video_score(path, num_frames=num_frames,
                                               name=osp.basename(path))
    except (ValueError, FrameReadError) as err:  # named by the file's name, not the upload's
        raise ValueError(str(err).replace(path, osp.basename(path))) from err
    preds, score = video.frames, video.fake_probability
    ranked = sorted(preds, key=lambda p: p.fake_probability, reverse=True)
    top = []
    for pred in ranked[:max(top_k, 1)]:
        overlay, heat = render(pred.info['frame_image'], pred, threshold)
        top.append((overlay, heat, pred))
    best_overlay, best_heat, best = top[0]
    fakes = sum(p.fake_probability > threshold for p in preds)
    details = (f'**{osp.basename(path)}**: {len(preds)} frames sampled, mean fake '
               f'probability {score:.4f} (the video\'s score), {fakes} of {len(preds)} '
               f'frames above {threshold:.2f}; highest {best.fake_probability:.4f} at frame '
               f'{best.info["frame"]} (shown above)')
    return PageResult(
        score=score, verdict=verdict(score, threshold), overlay=_rgb(best_overlay),
        heatmap=_rgb(best_heat), details=details,
        frame_scores=list(zip(video.frame_indices, video.frame_scores)),
        top_frames=[(_rgb(o), f'frame {p.info["frame"]}: {p.fake_probability:.4f}')
                    for o, _, p in top[:top_k]])


def analyse_file(inferencer: ForgeryInferencer, path: str, *, threshold: float,
                 detect_faces: bool = False, num_frames: int = 16, top_k: int = 4,
                 name: Optional[str] = None,
                 max_megapixels: float = DEFAULT_MAX_MEGAPIXELS) -> PageResult:
    """An uploaded image or video, told apart by its extension.

    Args:
        inferencer (ForgeryInferencer): the model.
        path (str): the file.
        threshold (float): the fake-probability threshold of the decision.
        detect_faces (bool): crop an image's largest face first (video frames always are).
            Defaults to False.
        num_frames (int): frames sampled from a video. Defaults to 16.
        top_k (int): how many of a video's highest-scoring frames to show. Defaults to 4.
        name (str, optional): an image's name (it seeds the noisy view); None for the
            file's base name. Defaults to None.
        max_megapixels (float): an image with more pixels (millions) is refused before it
            is decoded. Defaults to
            :data:`~dadf_mm.apis.image_files.DEFAULT_MAX_MEGAPIXELS`.

    Returns:
        PageResult: what the page shows.

    Raises:
        ValueError: the file is neither an image nor a video this page reads, it is too
            large, it does not decode completely (as the dataset loader refuses it), or it
            shows no face where one is needed; the message names the file by its base
            name.
    """
    lower = path.lower()
    if lower.endswith(VIDEO_SUFFIXES):
        return analyse_video(inferencer, path, threshold=threshold, num_frames=num_frames,
                             top_k=top_k)
    if not lower.endswith(IMAGE_SUFFIXES):
        raise ValueError(f'{osp.basename(path)}: not an image or a video this page reads '
                         f'(one of {", ".join(ACCEPTED_SUFFIXES)})')
    try:
        image = read_image(path, max_megapixels=max_megapixels)
    except ValueError as err:  # the dataset's message, named by the file's name
        raise ValueError(str(err).replace(path, osp.basename(path))) from err
    return analyse_image(inferencer, image, name=name or osp.basename(path),
                         threshold=threshold, detect_faces=detect_faces)


def delete_upload(path: str, folder: str) -> None:
    """Delete an uploaded file and the folders it leaves empty, up to ``folder``.

    Args:
        path (str): The upload.
        folder (str): The folder uploads are stored under; nothing outside it is touched.
    """
    root = osp.realpath(folder)
    target = osp.realpath(path)
    if osp.commonpath([root, target]) != root or target == root:
        return
    try:
        os.remove(target)
    except FileNotFoundError:
        pass
    parent = osp.dirname(target)
    while parent != root and osp.commonpath([root, parent]) == root:
        try:
            os.rmdir(parent)  # only when empty
        except OSError:
            break
        parent = osp.dirname(parent)


def analyse_upload(inferencer: ForgeryInferencer, path: str, *, upload_folder: str,
                   threshold: float, detect_faces: bool = False, num_frames: int = 16,
                   top_k: int = 4, max_megapixels: float = DEFAULT_MAX_MEGAPIXELS
                   ) -> PageResult:
    """What the page runs on a dropped file: :func:`analyse_file`, then the upload deleted
    (:func:`delete_upload`), also when it is refused.

    Args:
        inferencer (ForgeryInferencer): the model.
        path (str): the uploaded file.
        upload_folder (str): the folder the page stores uploads under.
        threshold (float): the fake-probability threshold of the decision.
        detect_faces (bool): crop an image's largest face first. Defaults to False.
        num_frames (int): frames sampled from a video. Defaults to 16.
        top_k (int): how many of a video's highest-scoring frames to show. Defaults to 4.
        max_megapixels (float): the largest image accepted, in millions of pixels.
            Defaults to :data:`~dadf_mm.apis.image_files.DEFAULT_MAX_MEGAPIXELS`.

    Returns:
        PageResult: what the page shows.

    Raises:
        ValueError: as :func:`analyse_file`; or the upload is gone (analysed already).
    """
    if not osp.isfile(path):
        raise ValueError(f'{osp.basename(path)} was analysed and deleted from the server '
                         'already: drop it again')
    try:
        return analyse_file(inferencer, path, threshold=threshold, detect_faces=detect_faces,
                            num_frames=num_frames, top_k=top_k,
                            max_megapixels=max_megapixels)
    finally:
        delete_upload(path, upload_folder)


def check_address(host: str, port: int) -> None:
    """Make sure the page can listen on ``host:port`` (before a model is built for it).

    Args:
        host (str): the address to bind.
        port (int): the port.

    Raises:
        OSError: the address does not resolve, or the port is taken (the message says
            which and what to pass instead).
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as err:
        raise OSError(f'--host {host!r} does not resolve to an address ({err}); pass '
                      '--host 127.0.0.1 or one of this machine\'s addresses') from err
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
        try:
            sock.bind(address)
        except OSError as err:
            fix = {errno.EADDRNOTAVAIL: f'--host {host!r} is not an address of this machine: '
                                        'pass --host 127.0.0.1 or one of its addresses',
                   errno.EACCES: 'ports below 1024 need administrator rights: pass '
                                 '--port 1024 or above (e.g. 7860)'}.get(
                       err.errno, 'pass another --port (or stop what uses it)')
            raise OSError(f'cannot listen on {host}:{port} ({err.strerror or err}); '
                          f'{fix}') from err


def frame_curve(result: PageResult, threshold: float):
    """The per-frame scores as a long pandas table for a line plot: columns ``frame``,
    ``fake probability`` and ``series`` (``'frame score'`` and the ``'threshold'``).

    Args:
        result (PageResult): A video's result (an image's gives an empty table).
        threshold (float): The threshold, drawn as a line from the first to the last frame.

    Returns:
        pandas.DataFrame: The rows of both series.
    """
    import pandas as pd
    rows = [dict(frame=f, **{'fake probability': s}, series='frame score')
            for f, s in result.frame_scores]
    if result.frame_scores:
        first, last = result.frame_scores[0][0], result.frame_scores[-1][0]
        rows += [dict(frame=f, **{'fake probability': threshold}, series='threshold')
                 for f in sorted({first, last})]
    return pd.DataFrame(rows, columns=['frame', 'fake probability', 'series'])


PAGE_INTRO = (
    'Drop a face image or a video. The **overlay** marks the region the model takes for '
    'forged (red) with the decision; the **heat map** is the per-pixel fake probability. '
    'A video is scored on evenly spaced frames, each cropped to the tracked face: its score '
    'is the mean of theirs, the curve shows every frame, and the gallery the frames that '
    'score highest. Each file is deleted from the server once analysed: drop it again to '
    'analyse it with the other crop setting.')


def for_display(image: np.ndarray, *, min_side: int = 384) -> np.ndarray:
    """``image`` enlarged by a whole factor (nearest neighbour, so no pixel is invented)
    until its shorter side is at least ``min_side``; larger pictures are left as they are.

    Args:
        image (np.ndarray): An (H, W, 3) picture.
        min_side (int): The shorter side to reach. Defaults to 384.

    Returns:
        np.ndarray: The enlarged picture, or ``image`` itself.
    """
    factor = -(-min_side // max(min(image.shape[:2]), 1))
    if factor <= 1:
        return image
    return cv2.resize(image, (image.shape[1] * factor, image.shape[0] * factor),
                      interpolation=cv2.INTER_NEAREST)


def build_page(inferencer: ForgeryInferencer, *, threshold: float = 0.5,
               num_frames: int = 16, top_k: int = 4, detect_faces: bool = False,
               title: str = 'DADF forgery analysis',
               max_megapixels: float = DEFAULT_MAX_MEGAPIXELS):
    """The page, as a Gradio ``Blocks`` (not yet serving).

    Args:
        inferencer (ForgeryInferencer): the model; the page runs one analysis at a time.
        threshold (float): the fake-probability threshold of the decision.
            Defaults to 0.5.
        num_frames (int): frames sampled from a video. Defaults to 16.
        top_k (int): how many of a video's highest-scoring frames the gallery shows.
            Defaults to 4.
        detect_faces (bool): whether the "crop the largest face" box starts ticked.
            Defaults to False.
        title (str): the page's title. Defaults to 'DADF forgery analysis'.
        max_megapixels (float): the largest image analysed, in millions of pixels; larger
            ones are refused from their header. It also becomes Pillow's
            decompression-bomb limit (``PIL.Image.MAX_IMAGE_PIXELS``) in this process.
            Defaults to :data:`~dadf_mm.apis.image_files.DEFAULT_MAX_MEGAPIXELS`.

    Pictures smaller than 384 px are shown enlarged (:func:`for_display`). Each upload is
    deleted once analysed, and the file box emptied; the pictures the page served are
    deleted by Gradio after an hour and when the page is closed.

    Returns:
        gradio.Blocks: the page; its elements have ids ``file``, ``detect-faces``,
        ``analyse``, ``score``, ``verdict``, ``overlay``, ``heatmap``, ``frame-curve``,
        ``top-frames`` and ``details``.
    """
    import gradio as gr
    from gradio.utils import get_upload_folder
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = int(max_megapixels * 1e6)  # Pillow refuses larger ones too
    folder = get_upload_folder()  # GRADIO_TEMP_DIR, else <temp>/gradio

    def run(path: Optional[str], crop: bool):
        if not path:
            raise gr.Error('drop an image or a video first')
        try:
            result = analyse_upload(inferencer, path, upload_folder=folder,
                                    threshold=threshold, detect_faces=crop,
                                    num_frames=num_frames, top_k=top_k,
                                    max_megapixels=max_megapixels)
        except ValueError as err:
            raise gr.Error(str(err)) from err
        video = result.is_video
        frames = [(for_display(image), caption) for image, caption in result.top_frames]
        return (f'{result.score:.6f}', result.verdict, for_display(result.overlay),
                for_display(result.heatmap),
                gr.update(value=frame_curve(result, threshold), visible=video),
                gr.update(value=frames, visible=video), result.details, None)

    # the pictures Gradio serves: checked every 10 minutes, deleted after an hour
    with gr.Blocks(title=title, analytics_enabled=False,
                   delete_cache=(600, 3600)) as page:
        gr.Markdown(f'# {title}\n{PAGE_INTRO}')
        with gr.Row():
            with gr.Column(scale=2):
                upload = gr.File(label='image or video', file_types=list(ACCEPTED_SUFFIXES),
                                 type='filepath', elem_id='file')
            with gr.Column(scale=1):
                crop = gr.Checkbox(value=detect_faces, elem_id='detect-faces',
                                   label='crop the largest face of an image first '
                                         '(videos always are)')
                button = gr.Button('Analyse', variant='primary', elem_id='analyse')
                score = gr.Textbox(label='fake probability', interactive=False,
                                   elem_id='score')
                decision = gr.Textbox(label=f'decision (threshold {threshold:.2f})',
                                      interactive=False, elem_id='verdict')
        with gr.Row():
            overlay = gr.Image(label='overlay', type='numpy', format='png',
                               interactive=False, elem_id='overlay')
            heatmap = gr.Image(label='heat map', type='numpy', format='png',
                               interactive=False, elem_id='heatmap')
        curve = gr.LinePlot(x='frame', y='fake probability', color='series',
                            y_lim=[0, 1], label='fake probability per sampled frame',
                            visible=False, elem_id='frame-curve')
        gallery = gr.Gallery(label=f'the {top_k} highest-scoring frames', columns=top_k,
                             rows=1, height='auto', format='png', visible=False,
                             elem_id='top-frames')
        details = gr.Markdown(elem_id='details')
        outputs = [score, decision, overlay, heatmap, curve, gallery, details, upload]
        upload.upload(run, inputs=[upload, crop], outputs=outputs)
        button.click(run, inputs=[upload, crop], outputs=outputs)
    return page


def launch_page(page, *, host: str = '127.0.0.1', port: int = 7860) -> str:
    """Serve ``page`` on ``host:port`` in a background thread (no public share link, no
    usage statistics); ``page.block_thread()`` then serves until interrupted.

    Args:
        page (gradio.Blocks): from :func:`build_page`.
        host (str): the address to bind; the default reaches only this machine.
            Defaults to '127.0.0.1'.
        port (int): the port. Defaults to 7860.

    Returns:
        str: the page's local URL.
    """
    page.queue(default_concurrency_limit=1)
    _, url, _ = page.launch(server_name=host, server_port=port, share=False,
                            prevent_thread_lock=True, show_error=True, quiet=True,
                            max_file_size='1gb')
    return url
