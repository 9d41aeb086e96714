"""What the web page does with a dropped file: an image or a video analysed
(:func:`analyse_file`), its prediction files written for download as ``tools/infer.py``
writes them (:class:`~dadf_mm.apis.prediction_files.PredictionFiles`), and the upload
deleted (:func:`analyse_upload`). Plain numpy; no Gradio.

An image is read as the dataset reads one (:func:`~dadf_mm.apis.image_files.read_image`:
a truncated JPEG is refused), and one with more pixels than the page's limit is refused
from its header, before it is decoded. Every upload is deleted once it has been analysed,
refused ones included.
"""
import os
import os.path as osp
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Tuple

import numpy as np

from dadf_mm.apis.image_files import DEFAULT_MAX_MEGAPIXELS, read_image
from dadf_mm.apis.inference import IMAGE_SUFFIXES, VIDEO_SUFFIXES, ForgeryInferencer, render
from dadf_mm.apis.prediction_files import PredictionFiles
from dadf_mm.preprocessing.frame_sampler import FrameReadError

#: what the page's file box accepts
ACCEPTED_SUFFIXES = IMAGE_SUFFIXES + VIDEO_SUFFIXES


@dataclass
class PageResult:
    """What the page shows for one file.

    Attributes:
        score (float): the fake probability of the image, or the mean of the video's
            sampled frames (as ``tools/infer.py`` scores a video).
        verdict (str): ``'FAKE'`` or ``'real'`` with the threshold, e.g.
            ``'FAKE (0.7312 > 0.5)'``.
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
        download (str, optional): a zip of the prediction files, as ``tools/infer.py``
            writes them for the file; None when none was asked for. Defaults to None.
    """

    score: float
    verdict: str
    overlay: np.ndarray
    heatmap: np.ndarray
    details: str
    frame_scores: List[Tuple[int, float]] = field(default_factory=list)
    top_frames: List[Tuple[np.ndarray, str]] = field(default_factory=list)
    download: Optional[str] = None

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
        str: E.g. ``'FAKE (0.7312 > 0.5)'``.
    """
    if score > threshold:
        return f'FAKE ({score:.4f} > {threshold:.4g})'
    return f'real ({score:.4f} <= {threshold:.4g})'


def decision_threshold(inferencer: ForgeryInferencer, threshold: Optional[float]) -> float:
    """The threshold the page decides at: the one given, else the inferencer's (the
    checkpoint's calibrated threshold unless the inferencer was given one).

    Args:
        inferencer (ForgeryInferencer): the model.
        threshold (float, optional): the page's own threshold; None for the inferencer's.

    Returns:
        float: the threshold.
    """
    return inferencer.threshold if threshold is None else threshold


def _rgb(image_bgr: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image_bgr[..., ::-1])


def analyse_image(inferencer: ForgeryInferencer, image_bgr: np.ndarray, *, name: str,
                  threshold: Optional[float] = None, detect_faces: bool = False,
                  downloads: Optional[str] = None) -> PageResult:
    """One image (BGR uint8).

    Args:
        inferencer (ForgeryInferencer): the model.
        image_bgr (np.ndarray): the picture, a face crop unless ``detect_faces``.
        name (str): its name; it seeds the noisy view, so the same name gives the score
            :meth:`ForgeryInferencer.predict_image` gives.
        threshold (float, optional): the fake-probability threshold of the decision;
            None for the inferencer's (:func:`decision_threshold`). Defaults to None.
        detect_faces (bool): crop the largest face first. Defaults to False.
        downloads (str, optional): a folder for the zip of its prediction files
            (:func:`zip_predictions`); None for none. Defaults to None.

    Returns:
        PageResult: the score, verdict and pictures.

    Raises:
        ValueError: ``detect_faces`` is set and the picture shows no face.
    """
    threshold = decision_threshold(inferencer, threshold)
    pred = inferencer.predict_image(image_bgr, name, detect_faces=detect_faces)
    overlay, heat = render(image_bgr, pred, threshold)
    details = (f'**{osp.basename(name)}**: fake probability {pred.fake_probability:.4f}, '
               f'forged area {100 * pred.forged_area:.1f}% of the face'
               + (f', face box (x, y, side) {tuple(pred.face_box)}' if pred.face_box else ''))
    download = None if downloads is None else zip_predictions(
        downloads, osp.basename(name), threshold,
        lambda files: files.add_image(name, image_bgr, pred),
        model_card=inferencer.model_card.as_dict())
    return PageResult(score=pred.fake_probability, verdict=verdict(pred.fake_probability,
                                                                   threshold),
                      overlay=_rgb(overlay), heatmap=_rgb(heat), details=details,
                      download=download)


def analyse_video(inferencer: ForgeryInferencer, path: str, *,
                  threshold: Optional[float] = None,
                  num_frames: int = 16, top_k: int = 4,
                  downloads: Optional[str] = None) -> PageResult:
    """A video: ``num_frames`` evenly spaced frames, each cropped to the tracked face.

    Args:
        inferencer (ForgeryInferencer): the model.
        path (str): the video file.
        threshold (float, optional): the fake-probability threshold of the decision;
            None for the inferencer's (:func:`decision_threshold`). Defaults to None.
        num_frames (int): frames sampled from the video. Defaults to 16.
        top_k (int): how many of the highest-scoring frames to show. Defaults to 4.
        downloads (str, optional): a folder for the zip of its prediction files
            (:func:`zip_predictions`); None for none. Defaults to None.

    Returns:
        PageResult: the mean score of the frames, the overlay and heat map of the
        highest-scoring frame, every frame's score and the ``top_k`` frames.

    Raises:
        ValueError: no face in any sampled frame, or the video cannot be read.
    """
    threshold = decision_threshold(inferencer, threshold)
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
               f'frames above {threshold:.4g}; highest {best.fake_probability:.4f} at frame '
               f'{best.info["frame"]} (shown above)')
    return PageResult(
        score=score, verdict=verdict(score, threshold), overlay=_rgb(best_overlay),
        heatmap=_rgb(best_heat), details=details,
        frame_scores=[tuple(point) for point in video.frame_scores],
        top_frames=[(_rgb(o), f'frame {p.info["frame"]}: {p.fake_probability:.4f}')
                    for o, _, p in top[:top_k]],
        download=None if downloads is None else zip_predictions(
            downloads, osp.basename(path), threshold,
            lambda files: files.add_video(osp.basename(path), preds),
            model_card=inferencer.model_card.as_dict()))


def analyse_file(inferencer: ForgeryInferencer, path: str, *,
                 threshold: Optional[float] = None,
                 detect_faces: bool = False, num_frames: int = 16, top_k: int = 4,
                 name: Optional[str] = None,
                 max_megapixels: float = DEFAULT_MAX_MEGAPIXELS,
                 downloads: Optional[str] = None) -> PageResult:
    """An uploaded image or video, told apart by its extension.

    Args:
        inferencer (ForgeryInferencer): the model.
        path (str): the file.
        threshold (float, optional): the fake-probability threshold of the decision;
            None for the inferencer's (:func:`decision_threshold`). Defaults to None.
        detect_faces (bool): crop an image's largest face first (video frames always are).
            Defaults to False.
        num_frames (int): frames sampled from a video. Defaults to 16.
        top_k (int): how many of a video's highest-scoring frames to show. Defaults to 4.
        name (str, optional): an image's name (it seeds the noisy view); None for the
            file's base name. Defaults to None.
        max_megapixels (float): an image with more pixels (millions) is refused before it
            is decoded. Defaults to
            :data:`~dadf_mm.apis.image_files.DEFAULT_MAX_MEGAPIXELS`.
        downloads (str, optional): a folder for the zip of its prediction files
            (:func:`zip_predictions`); None for none. Defaults to None.

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
                             top_k=top_k, downloads=downloads)
    if not lower.endswith(IMAGE_SUFFIXES):
        raise ValueError(f'{osp.basename(path)}: not an image or a video this page reads '
                         f'(one of {", ".join(ACCEPTED_SUFFIXES)})')
    try:
        image = read_image(path, max_megapixels=max_megapixels)
    except ValueError as err:  # the dataset's message, named by the file's name
        raise ValueError(str(err).replace(path, osp.basename(path))) from err
    return analyse_image(inferencer, image, name=name or osp.basename(path),
                         threshold=threshold, detect_faces=detect_faces, downloads=downloads)


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
                   threshold: Optional[float] = None, detect_faces: bool = False,
                   num_frames: int = 16,
                   top_k: int = 4, max_megapixels: float = DEFAULT_MAX_MEGAPIXELS,
                   downloads: Optional[str] = None) -> PageResult:
    """What the page runs on a dropped file: :func:`analyse_file`, then the upload deleted
    (:func:`delete_upload`), also when it is refused.

    Args:
        inferencer (ForgeryInferencer): the model.
        path (str): the uploaded file.
        upload_folder (str): the folder the page stores uploads under.
        threshold (float, optional): the fake-probability threshold of the decision;
            None for the inferencer's (:func:`decision_threshold`). Defaults to None.
        detect_faces (bool): crop an image's largest face first. Defaults to False.
        num_frames (int): frames sampled from a video. Defaults to 16.
        top_k (int): how many of a video's highest-scoring frames to show. Defaults to 4.
        max_megapixels (float): the largest image accepted, in millions of pixels.
            Defaults to :data:`~dadf_mm.apis.image_files.DEFAULT_MAX_MEGAPIXELS`.
        downloads (str, optional): a folder for the zip of its prediction files
            (:func:`zip_predictions`); None for none. Defaults to None.

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
                            max_megapixels=max_megapixels, downloads=downloads)
    finally:
        delete_upload(path, upload_folder)


def zip_predictions(folder: str, name: str, threshold: float,
                    write: Callable[[PredictionFiles], object], *,
                    model_card: Optional[dict] = None) -> str:
    """One input's prediction files, written by ``write`` as ``tools/infer.py`` writes
    them, in a zip ``<folder>/<name>.predictions.zip`` (the folders,
    ``predictions.jsonl`` and ``model.json`` at its top).

    Args:
        folder (str): where the zip goes (made if missing).
        name (str): the input's file name.
        threshold (float): the decision's threshold.
        write (Callable[[PredictionFiles], object]): writes the input's predictions.
        model_card (dict, optional): the model's card for ``model.json``. Defaults to
            None (none written).

    Returns:
        str: the zip's path.
    """
    os.makedirs(folder, exist_ok=True)
    work = tempfile.mkdtemp(prefix='.predictions-', dir=folder)
    try:
        with PredictionFiles(work, threshold=threshold, model_card=model_card) as files:
            write(files)
        return shutil.make_archive(osp.join(folder, f'{name}.predictions'), 'zip', work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
