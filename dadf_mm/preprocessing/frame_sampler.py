"""Evenly spaced frames from a video file or a folder of frame images.

Containers often report a wrong frame count (``CAP_PROP_FRAME_COUNT`` is read from the
header, not counted), so the count used here is the number of frames that actually
decode: the video is read sequentially to its end with ``grab()``, keeping only the
wanted frames (``retrieve()``). If the header was wrong the indices are recomputed from
the true count and, when needed, read in a second pass.

A folder source (e.g. VidTIMIT, which ships JPEG frames without extensions, or a
WildDeepfake face sequence of PNGs) is its image files in natural sort order: files with
an image extension or none; others (``Thumbs.db``, a ``.txt`` note) are not frames.
"""
import os
import os.path as osp
import re
from dataclasses import dataclass
from typing import Dict, List, Sequence, Set, Tuple

import cv2
import numpy as np


class FrameReadError(RuntimeError):
    """A video (or frame folder) that cannot be read; the message names the file."""


@dataclass
class SampledFrames:
    """Frames read from one source: ``frames[k]`` is frame number ``indices[k]``.

    Attributes:
        total (int): The source's true frame count (frames that decode, or frame files).
        indices (list[int]): The frame numbers read, in the order asked for.
        frames (list[np.ndarray]): The frames, BGR (H, W, 3) uint8 as OpenCV reads them.
    """

    total: int
    indices: List[int]
    frames: List[np.ndarray]


def evenly_spaced_indices(total: int, num: int) -> List[int]:
    """``num`` distinct frame numbers at the centres of ``num`` equal segments of
    ``range(total)``; all frames when ``total <= num``.

    Args:
        total (int): The number of frames.
        num (int): The number of frames wanted.

    Returns:
        list[int]: Increasing frame numbers (empty when ``total`` or ``num`` is not
        positive).
    """
    if total <= 0 or num <= 0:
        return []
    if num >= total:
        return list(range(total))
    return [int((i + 0.5) * total / num) for i in range(num)]


def _natural_key(name: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r'(\d+)', name)]


#: the extensions of a frame folder's images (VidTIMIT's frames have none)
FRAME_EXTENSIONS = ('', '.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')


def _frame_files(folder: str) -> List[str]:
    names = [n for n in os.listdir(folder)
             if not n.startswith('.') and osp.isfile(osp.join(folder, n))
             and osp.splitext(n)[1].lower() in FRAME_EXTENSIONS]
    return [osp.join(folder, n) for n in sorted(names, key=_natural_key)]


def _decode(path: str, wanted: Set[int]) -> Tuple[int, Dict[int, np.ndarray]]:
    """Reads a video to its end; returns the decoded frame count and the wanted frames."""
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise FrameReadError(f'unreadable video: OpenCV cannot open {path}')
    got: Dict[int, np.ndarray] = {}
    total = 0
    try:
        while cap.grab():
            if total in wanted:
                ok, frame = cap.retrieve()
                if not ok or frame is None:
                    raise FrameReadError(f'unreadable video: frame {total} of {path} '
                                         'does not decode')
                got[total] = frame
            total += 1
    finally:
        cap.release()
    if total == 0:
        raise FrameReadError(f'unreadable video: no frame of {path} decodes')
    return total, got


def _reported_count(path: str) -> int:
    cap = cv2.VideoCapture(path)
    if not cap.isOpened():
        raise FrameReadError(f'unreadable video: OpenCV cannot open {path}')
    count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.release()
    return count


def read_frames(source: str, indices: Sequence[int]) -> SampledFrames:
    """The frames ``indices`` of ``source`` (those that exist) and its true frame count.

    Args:
        source (str): A video file or a folder of frame images.
        indices (Sequence[int]): The frame numbers to read.

    Returns:
        SampledFrames: The frames of ``indices`` that exist, in their order.

    Raises:
        FrameReadError: The video or a frame image cannot be read.
    """
    if osp.isdir(source):
        files = _frame_files(source)
        kept = [i for i in indices if 0 <= i < len(files)]
        frames = []
        for i in kept:
            frame = cv2.imread(files[i], cv2.IMREAD_COLOR)
            if frame is None:
                raise FrameReadError(f'unreadable frame image {files[i]}')
            frames.append(frame)
        return SampledFrames(len(files), kept, frames)
    total, got = _decode(source, set(indices))
    kept = [i for i in indices if i in got]
    return SampledFrames(total, kept, [got[i] for i in kept])


def sample_frames(source: str, num_frames: int = 32) -> SampledFrames:
    """``num_frames`` evenly spaced frames of a video file or frame folder.

    Args:
        source (str): A video file or a folder of frame images.
        num_frames (int): The number of frames wanted (all when the source has fewer).
            Defaults to 32.

    Returns:
        SampledFrames: The frames, spaced by the true frame count.

    Raises:
        FrameReadError: The source is missing, empty or cannot be read.
    """
    if not osp.exists(source):
        raise FrameReadError(f'unreadable video: {source} does not exist')
    if osp.isdir(source):
        total = len(_frame_files(source))
        if total == 0:
            raise FrameReadError(f'unreadable video: no frame images in {source}')
        return read_frames(source, evenly_spaced_indices(total, num_frames))
    reported = _reported_count(source)
    indices = evenly_spaced_indices(reported, num_frames)
    total, got = _decode(source, set(indices))
    if total != reported:
        indices = evenly_spaced_indices(total, num_frames)
        if not all(i in got for i in indices):
            total, got = _decode(source, set(indices))
    return SampledFrames(total, indices, [got[i] for i in indices])
