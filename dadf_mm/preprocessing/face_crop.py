"""Square face crops: one box, with margin, cut identically from a frame and its mask."""
from typing import Optional, Tuple

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
