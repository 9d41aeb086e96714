"""Forgery inference on images, folders and videos (what ``tools/infer.py`` runs): the
inferencer (:mod:`.inferencer`), pictures of its predictions on whole frames, and the mask
and probability-map files.

Images are taken as face crops unless ``detect_faces`` is set; video frames always go
through the face detector and tracker the dataset converters use, so a video is cropped
the way the training data was.
"""
import os
import os.path as osp
from typing import Iterable, List, Optional, Tuple

import cv2
import numpy as np

from ..visualization import Verdict, draw_banner, layout_banner, tint
from .image_files import DEFAULT_MAX_MEGAPIXELS, ImageTooLargeError, read_image
from .inferencer import IMAGE_SUFFIXES, ForgeryInferencer, default_device
from .inferencer_results import ForgeryPrediction, NonFiniteOutputError, VideoPrediction

VIDEO_SUFFIXES = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v')
#: a probability map's 16-bit PNG holds ``round(probability * PROBABILITY_SCALE)``
PROBABILITY_SCALE = 65535

__all__ = [
    'ForgeryInferencer', 'ForgeryPrediction', 'VideoPrediction', 'IMAGE_SUFFIXES',
    'VIDEO_SUFFIXES', 'PROBABILITY_SCALE', 'DEFAULT_MAX_MEGAPIXELS', 'ImageTooLargeError',
    'NonFiniteOutputError', 'decided_mask', 'default_device', 'list_inputs', 'output_name',
    'paste_into', 'read_image', 'read_probability_map', 'render', 'write_mask',
    'write_picture', 'write_probability_map',
]


def paste_into(frame_shape: tuple, pred: ForgeryPrediction) -> np.ndarray:
    """The face's probability map placed back into a zero map of the whole frame.

    Args:
        frame_shape (tuple): the frame's shape (H, W[, C]).
        pred (ForgeryPrediction): the prediction: at the frame's size (as the inferencer
            gives it), or of a face crop (``face_box`` where it is; None: the whole frame).

    Returns:
        np.ndarray: H x W float32 probabilities.
    """
    full = np.zeros(frame_shape[:2], dtype=np.float32)
    if pred.probability_map.shape[:2] == tuple(frame_shape[:2]):
        return pred.probability_map.astype(np.float32)
    if pred.face_box is None:
        return cv2.resize(pred.probability_map, (frame_shape[1], frame_shape[0]))
    x1, y1, side = pred.face_box
    face = cv2.resize(pred.probability_map, (side, side), interpolation=cv2.INTER_LINEAR)
    h, w = frame_shape[:2]
    sx1, sy1, sx2, sy2 = max(x1, 0), max(y1, 0), min(x1 + side, w), min(y1 + side, h)
    if sx2 > sx1 and sy2 > sy1:
        full[sy1:sy2, sx1:sx2] = face[sy1 - y1:sy2 - y1, sx1 - x1:sx2 - x1]
    return full


def decided_mask(probability: np.ndarray, is_fake: bool) -> np.ndarray:
    """The mask a decision goes with (as ``DADF.predict`` with ``mask_from_fake_only``).

    Args:
        probability (np.ndarray): H x W per-pixel fake probabilities.
        is_fake (bool): the decision.

    Returns:
        np.ndarray: H x W uint8, 1 where ``probability > 0.5`` on a face judged fake; all 0
        on one judged real.
    """
    if not is_fake:
        return np.zeros(probability.shape[:2], np.uint8)
    return (probability > 0.5).astype(np.uint8)


def render(image: np.ndarray, pred: ForgeryPrediction, threshold: float = 0.5, *,
           truth: Optional[int] = None, alpha: float = 0.5) -> Tuple[np.ndarray, np.ndarray]:
    """(overlay, heat map) pictures of a prediction on the whole image, both BGR uint8 at
    the image's size.

    The overlay tints the forged region red (pixels above 0.5, on a face judged fake at
    ``threshold``, so picture and decision agree), frames the face box (red fake, green
    real) and writes a banner across the top: ``FAKE 0.91`` / ``real 0.12``, grey; with
    ``truth`` also the truth and the verdict, green when right and red when wrong
    (``FAKE 0.91 | truth: real | WRONG``). The heat map blends the per-pixel probability
    (JET colour map) with the image.

    Args:
        image (np.ndarray): the BGR picture the prediction was made on (the whole frame
            when the face was cropped from it).
        pred (ForgeryPrediction): the prediction.
        threshold (float): the decision's threshold. Defaults to 0.5.
        truth (int, optional): 1 fake, 0 real, when known. Defaults to None.
        alpha (float): opacity of the red tint. Defaults to 0.5.

    Returns:
        tuple[np.ndarray, np.ndarray]: the overlay and the heat map.
    """
    prob = paste_into(image.shape, pred)
    verdict = Verdict(pred.fake_probability, threshold, truth)
    mask = decided_mask(prob, verdict.is_fake)
    overlay = tint(np.ascontiguousarray(image[..., ::-1]), mask, alpha)  # RGB from here
    if pred.face_box is not None:
        x1, y1, side = pred.face_box
        colour = (255, 0, 0) if verdict.is_fake else (0, 200, 0)
        cv2.rectangle(overlay, (x1, y1), (x1 + side, y1 + side), colour, 2)
    draw_banner(overlay, layout_banner(image.shape[1], verdict.parts()), verdict.colour())
    overlay = np.ascontiguousarray(overlay[..., ::-1])
    heat = cv2.applyColorMap(np.clip(prob * 255, 0, 255).astype(np.uint8), cv2.COLORMAP_JET)
    heat = cv2.addWeighted(image, 0.4, heat, 0.6, 0)
    return overlay, heat


def write_picture(path: str, picture: np.ndarray) -> None:
    """A picture (BGR uint8, or a grey map) as an image file, its folder made.

    Args:
        path (str): the file to write; its extension sets the format.
        picture (np.ndarray): what to write.

    Raises:
        OSError: the file could not be written.
    """
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    if not cv2.imwrite(path, picture):
        raise OSError(f'could not write {path}')


def write_mask(path: str, mask: np.ndarray) -> None:
    """A binary mask as an 8-bit PNG: 255 forged, 0 not (the converters' mask format).

    Args:
        path (str): the PNG to write (its folder is made).
        mask (np.ndarray): H x W, 1 forged.

    Raises:
        OSError: the file could not be written.
    """
    write_picture(path, np.where(mask == 1, 255, 0).astype(np.uint8))


def write_probability_map(path: str, probability: np.ndarray) -> None:
    """A probability map as a 16-bit grey PNG holding
    ``round(probability * PROBABILITY_SCALE)`` (65535 = 1.0; resolution 1.5e-5); read it
    back with :func:`read_probability_map`.

    Args:
        path (str): the PNG to write (its folder is made).
        probability (np.ndarray): H x W values in [0, 1].

    Raises:
        OSError: the file could not be written.
    """
    scaled = np.rint(np.clip(probability, 0, 1) * PROBABILITY_SCALE).astype(np.uint16)
    write_picture(path, scaled)


def read_probability_map(path: str) -> np.ndarray:
    """A map written by :func:`write_probability_map`.

    Args:
        path (str): the 16-bit PNG.

    Returns:
        np.ndarray: H x W float32 probabilities.

    Raises:
        ValueError: the file is missing or not a 16-bit PNG.
    """
    data = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    if data is None or data.dtype != np.uint16:
        raise ValueError(f'{path} is not a 16-bit probability map written by tools/infer.py')
    return data.astype(np.float32) / PROBABILITY_SCALE


def output_name(path: str, frame: Optional[int] = None) -> str:
    """The name of an input's output files (without ``.png``).

    Args:
        path (str): the input.
        frame (int, optional): a video frame's index. Defaults to None.

    Returns:
        str: the file name with its extension, so ``dup.png`` and ``dup.jpg`` (one folder)
        never share one; a video frame adds ``.frame<N>`` (``clip.mp4.frame000012``), which
        no image's name ends with.
    """
    name = osp.basename(path)
    return name if frame is None else f'{name}.frame{frame:06d}'


def list_inputs(path: str) -> Iterable[str]:
    """The inputs a path names.

    Args:
        path (str): an image, a video, or a folder of them.

    Returns:
        list[str]: the path, or the folder's images and videos (sorted).

    Raises:
        FileNotFoundError: the path does not exist.
    """
    if osp.isdir(path):
        names: List[str] = sorted(os.listdir(path))
        return [osp.join(path, n) for n in names
                if n.lower().endswith(IMAGE_SUFFIXES + VIDEO_SUFFIXES)]
    if not osp.exists(path):
        raise FileNotFoundError(f'input {path} does not exist')
    return [path]
