"""The web page as a Gradio ``Blocks`` (:func:`build_page`): which model it runs (a
warning when it was trained on synthetic data), a file box, the score and decision, the
overlay and the heat map with its colour scale, a video's frame curve and highest-scoring
frames, and the prediction files to download. Gradio is imported when the page is built."""
import html
import os.path as osp
import shutil
from typing import Optional

import cv2
import numpy as np

from dadf_mm.apis.image_files import DEFAULT_MAX_MEGAPIXELS
from dadf_mm.apis.inference import ForgeryInferencer
from dadf_mm.apis.model_card import ModelCard

from .analysis import ACCEPTED_SUFFIXES, PageResult, analyse_upload, decision_threshold


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


def model_card_markdown(card: ModelCard) -> str:
    """The model the page runs, in Markdown: config name, checkpoint file, training data
    and, on a CPU, the encoder path.

    Args:
        card (ModelCard): the inferencer's :attr:`~ForgeryInferencer.model_card`.

    Returns:
        str: one line per item.
    """
    checkpoint = (f'`{osp.basename(card.checkpoint)}`' if card.checkpoint
                  else 'none (the config\'s initial weights)')
    saved = (f', saved at iteration {card.trained_iterations}'
             if card.trained_iterations is not None else '')
    encoder = f' · **encoder** {card.encoder_path}' if card.encoder_path else ''
    return (f'**Model** `{card.config}` · **checkpoint** {checkpoint}{saved} · '
            f'**trained on** {card.trained_on}{encoder}')


def model_warning_html(card: ModelCard) -> str:
    """The synthetic-data warning as a red box ('' when there is none).

    Args:
        card (ModelCard): the model's card.

    Returns:
        str: HTML.
    """
    if not card.warning:
        return ''
    return ('<div role="alert" style="border:2px solid #b00020;background:#fdecea;'
            'color:#7a0014;padding:8px 12px;border-radius:6px;font-weight:600">'
            f'Warning: {html.escape(card.warning)}</div>')


def heat_scale_html(stops: int = 11) -> str:
    """The heat map's colour scale: OpenCV's JET colours (those of the heat map, which
    blends them with the picture) from fake probability 0 to 1, with its ticks.

    Args:
        stops (int): colours sampled along the scale. Defaults to 11.

    Returns:
        str: HTML of a bar (class ``heat-scale-bar``) and the ticks 0, 0.5 and 1.
    """
    values = np.round(np.linspace(0, 255, stops)).astype(np.uint8)[None]
    rgb = cv2.applyColorMap(values, cv2.COLORMAP_JET)[0, :, ::-1]
    colours = ', '.join(f'rgb({r}, {g}, {b}) {100 * k / (stops - 1):g}%'
                        for k, (r, g, b) in enumerate(rgb))
    return ('<div class="heat-scale-bar" style="height:14px;border:1px solid #888;'
            f'background:linear-gradient(to right, {colours})"></div>'
            '<div style="display:flex;justify-content:space-between;font-size:0.85em">'
            '<span>0</span><span>0.5</span><span>1</span></div>'
            '<div style="text-align:center;font-size:0.85em">per-pixel fake probability '
            '(blended with the picture)</div>')


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


def build_page(inferencer: ForgeryInferencer, *, threshold: Optional[float] = None,
               num_frames: int = 16, top_k: int = 4, detect_faces: bool = False,
               title: str = 'DADF forgery analysis',
               max_megapixels: float = DEFAULT_MAX_MEGAPIXELS):
    """The page, as a Gradio ``Blocks`` (not yet serving).

    Args:
        inferencer (ForgeryInferencer): the model; the page runs one analysis at a time.
        threshold (float, optional): the fake-probability threshold of the decision.
            Defaults to None: the inferencer's (the checkpoint's calibrated threshold
            unless the inferencer was given one).
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
    deleted once analysed, and the file box emptied; the zip of its prediction files
    (:func:`~.analysis.zip_predictions`) is kept until the next analysis; the pictures and
    zips the page served are deleted by Gradio after an hour and when the page is closed.

    Returns:
        gradio.Blocks: the page; its elements have ids ``model-card``,
        ``model-warning``, ``file``, ``detect-faces``, ``analyse``, ``score``, ``verdict``,
        ``overlay``, ``heatmap``, ``heat-scale``, ``frame-curve``, ``top-frames``,
        ``details`` and ``download``.
    """
    import gradio as gr
    from gradio.utils import get_upload_folder
    from PIL import Image

    threshold = decision_threshold(inferencer, threshold)
    Image.MAX_IMAGE_PIXELS = int(max_megapixels * 1e6)  # Pillow refuses larger ones too
    folder = get_upload_folder()  # GRADIO_TEMP_DIR, else <temp>/gradio
    downloads = osp.join(folder, 'predictions')  # the last analysis's zip

    def run(path: Optional[str], crop: bool):
        if not path:
            raise gr.Error('drop an image or a video first')
        shutil.rmtree(downloads, ignore_errors=True)  # served (copied) by Gradio already
        try:
            result = analyse_upload(inferencer, path, upload_folder=folder,
                                    threshold=threshold, detect_faces=crop,
                                    num_frames=num_frames, top_k=top_k,
                                    max_megapixels=max_megapixels, downloads=downloads)
        except ValueError as err:
            raise gr.Error(str(err)) from err
        video = result.is_video
        frames = [(for_display(image), caption) for image, caption in result.top_frames]
        return (f'{result.score:.6f}', result.verdict, for_display(result.overlay),
                for_display(result.heatmap),
                gr.update(value=frame_curve(result, threshold), visible=video),
                gr.update(visible=video), frames, result.details, result.download, None)

    # the pictures Gradio serves: checked every 10 minutes, deleted after an hour
    with gr.Blocks(title=title, analytics_enabled=False,
                   delete_cache=(600, 3600)) as page:
        gr.Markdown(f'# {title}\n{PAGE_INTRO}')
        card = inferencer.model_card
        gr.Markdown(model_card_markdown(card), elem_id='model-card')
        gr.HTML(model_warning_html(card), visible=bool(card.warning), elem_id='model-warning')
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
                decision = gr.Textbox(label=f'decision (threshold {threshold:.4g})',
                                      interactive=False, elem_id='verdict')
        # titles above the pictures, not Gradio's labels and buttons (drawn over their
        # corners: the overlay's banner, the gallery's first frame); the pictures are in
        # the download
        with gr.Row():
            with gr.Column():
                gr.Markdown('**overlay**: the forged region in red', elem_id='overlay-title')
                overlay = gr.Image(label='overlay', show_label=False, buttons=[],
                                   type='numpy', format='png', interactive=False,
                                   elem_id='overlay')
            with gr.Column():
                gr.Markdown('**heat map**', elem_id='heatmap-title')
                heatmap = gr.Image(label='heat map', show_label=False, buttons=[],
                                   type='numpy', format='png', interactive=False,
                                   elem_id='heatmap')
                gr.HTML(heat_scale_html(), elem_id='heat-scale')
        curve = gr.LinePlot(x='frame', y='fake probability', color='series',
                            y_lim=[0, 1], label='fake probability per sampled frame',
                            visible=False, elem_id='frame-curve')
        with gr.Column(visible=False) as top_frames:
            gr.Markdown(f'**the {top_k} highest-scoring frames**', elem_id='top-frames-title')
            gallery = gr.Gallery(label=f'the {top_k} highest-scoring frames',
                                 show_label=False, buttons=[], columns=top_k, rows=1,
                                 height='auto', format='png', elem_id='top-frames')
        details = gr.Markdown(elem_id='details')
        download = gr.File(label='prediction files (as tools/infer.py writes them)',
                           interactive=False, elem_id='download')
        outputs = [score, decision, overlay, heatmap, curve, top_frames, gallery, details,
                   download, upload]
        upload.upload(run, inputs=[upload, crop], outputs=outputs)
        button.click(run, inputs=[upload, crop], outputs=outputs)
    return page


