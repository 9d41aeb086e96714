"""Square face crops: one box, with margin, cut identically from a frame and its mask;
optionally turned about the face so that the eyes are level (:func:`eye_angle`)."""
import math
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np

SquareBox = Tuple[int, int, int]  # (x1, y1, side): integer pixels, may reach outside the frame


def square_box(center_x: float, center_y: float, size: float, *, margin: float = 1.3) -> SquareBox:
    """The square of side ``round(size * margin)`` centred on the face.

    ``size`` is the face side (e.g. the larger of a detection's width and height).

    Args:
        center_x (float): The face centre's x, in pixels.
        center_y (float): The face centre's y, in pixels.
        size (float): The face side, in pixels; positive.
        margin (float): The crop side per face side; positive. Defaults to 1.3.

    Returns:
        SquareBox: ``(x1, y1, side)`` in integer pixels; it may reach outside the frame.
    """
    if size <= 0 or margin <= 0:
        raise ValueError(f'face size and margin must be positive, got {size}, {margin}')
    side = max(int(round(size * margin)), 1)
    x1 = int(round(center_x - side / 2))
    y1 = int(round(center_y - side / 2))
    return x1, y1, side


def crop_square(image: np.ndarray,
                box: SquareBox,
                *,
                out_size: Optional[int] = None,
                is_mask: bool = False) -> np.ndarray:
    """Cuts ``box`` out of ``image``; parts outside the frame are filled with zeros.

    Args:
        image (np.ndarray): (H, W) or (H, W, C) array.
        box (SquareBox): ``(x1, y1, side)`` from :func:`square_box`.
        out_size (int, optional): resize the crop to ``out_size`` x ``out_size`` (``None``
            keeps ``side``). Defaults to None.
        is_mask (bool): resize with nearest-neighbour instead of area/linear
            interpolation. Defaults to False.

    Returns:
        np.ndarray: The crop, (S, S) or (S, S, C) with S ``out_size`` or ``side``, of
        ``image``'s dtype.
    """
    x1, y1, side = box
    h, w = image.shape[:2]
    crop = np.zeros((side, side) + image.shape[2:], dtype=image.dtype)
    sx1, sy1 = max(x1, 0), max(y1, 0)
    sx2, sy2 = min(x1 + side, w), min(y1 + side, h)
    if sx2 > sx1 and sy2 > sy1:
        crop[sy1 - y1:sy2 - y1, sx1 - x1:sx2 - x1] = image[sy1:sy2, sx1:sx2]
    if out_size is not None and out_size != side:
        if is_mask:
            interp = cv2.INTER_NEAREST
        else:
            interp = cv2.INTER_AREA if out_size < side else cv2.INTER_LINEAR
        crop = cv2.resize(crop, (out_size, out_size), interpolation=interp)
    return crop


def eye_angle(landmarks: Sequence[Sequence[float]]) -> float:
    """How far the line from the left to the right eye is turned, in degrees.

    Args:
        landmarks (Sequence[Sequence[float]]): Five (x, y) points, the eyes first (left,
            right as seen in the image).

    Returns:
        float: The angle, positive when the right eye is lower (y grows downwards).
    """
    (lx, ly), (rx, ry) = landmarks[0], landmarks[1]
    return math.degrees(math.atan2(ry - ly, rx - lx))


def crop_aligned(image: np.ndarray,
                 box: SquareBox,
                 angle: float,
                 *,
                 out_size: Optional[int] = None,
                 is_mask: bool = False) -> np.ndarray:
    """Cuts ``box`` out of ``image`` turned by ``angle`` degrees about the box's centre
    (:func:`eye_angle`'s angle levels the eyes); parts outside the frame are zeros.

    Args:
        image (np.ndarray): (H, W) or (H, W, C) array.
        box (SquareBox): ``(x1, y1, side)`` from :func:`square_box`.
        angle (float): The face's turn; the crop is turned back by it.
        out_size (int, optional): resize the crop to ``out_size`` x ``out_size`` (``None``
            keeps ``side``). Defaults to None.
        is_mask (bool): nearest-neighbour sampling instead of linear. Defaults to False.

    Returns:
        np.ndarray: The crop, as :func:`crop_square` gives it (equal to it at angle 0).
    """
    x1, y1, side = box
    centre = (x1 + side / 2, y1 + side / 2)
    matrix = cv2.getRotationMatrix2D(centre, angle, 1.0)
    matrix[:, 2] -= (x1, y1)
    crop = cv2.warpAffine(image, matrix, (side, side),
                          flags=cv2.INTER_NEAREST if is_mask else cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    return crop_square(crop, (0, 0, side), out_size=out_size, is_mask=is_mask)


def face_angles(landmarks: Sequence[Optional[Sequence]]) -> List[float]:
    """Each frame's eye angle (:func:`eye_angle`), from its landmarks or, where it has
    none (a held box, a detector without landmarks), from the nearest earlier frame with
    them (the first such frame for the frames before it); all 0 when none has them.

    Args:
        landmarks (Sequence[Sequence | None]): Each frame's five points, or None.

    Returns:
        list[float]: One angle in degrees per frame.
    """
    angles = [eye_angle(points) if points else None for points in landmarks]
    known = next((a for a in angles if a is not None), 0.0)
    out = []
    for angle in angles:
        known = angle if angle is not None else known
        out.append(known)
    return out
