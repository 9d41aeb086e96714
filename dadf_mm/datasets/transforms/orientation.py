"""The EXIF orientation of an image file, and turning an array by it.

A camera stores a photo's pixels as the sensor read them and records in the EXIF tag
``Orientation`` (0x0112) how to turn them for display. An image loaded with mmcv's
``'color'`` or ``'grayscale'`` flag (and OpenCV's ``cv2.imread``, which ``tools/infer.py``
and the web page use) is turned; a forgery mask labels the image's stored pixels, so
:class:`~dadf_mm.datasets.transforms.LoadForgeryAnnotations` turns it with exactly the
transform its image got (see docs/data.md, "EXIF orientation").
"""
import io
from typing import Dict

import numpy as np
from PIL import Image

ORIENTATION_TAG = 0x0112
#: orientation -> what it does to the stored pixels for display (EXIF 2.32, tag 0x0112)
ORIENTATIONS: Dict[int, str] = {
    1: 'as stored',
    2: 'mirrored left-right',
    3: 'turned 180 degrees',
    4: 'mirrored top-bottom',
    5: 'transposed',
    6: 'turned 90 degrees clockwise',
    7: 'transversed',
    8: 'turned 90 degrees counter-clockwise',
}


def exif_orientation(data: bytes) -> int:
    """The EXIF orientation of an encoded image, read from its header only.

    Args:
        data (bytes): The file's content (JPEG, PNG, WebP, TIFF, ...).

    Returns:
        int: 1 to 8 (see :data:`ORIENTATIONS`); 1 when the file has no valid tag or
        its header cannot be parsed (the decoder then reports the file).
    """
    try:
        with Image.open(io.BytesIO(data)) as img:
            raw = img.info.get('exif')  # JPEG APP1, WebP, PNG eXIf before the pixels
            if raw:
                exif = Image.Exif()
                exif.load(raw)
            elif img.format == 'TIFF':  # tags are in the header
                exif = img.getexif()
            else:
                return 1
            value = exif.get(ORIENTATION_TAG, 1)
    except Exception:  # not an image PIL knows, a broken header: no orientation to apply
        return 1
    return value if isinstance(value, int) and value in ORIENTATIONS else 1


def swaps_axes(orientation: int) -> bool:
    """Whether displaying with ``orientation`` exchanges width and height.

    Args:
        orientation (int): An EXIF orientation, 1 to 8.

    Returns:
        bool: True for 5 to 8 (transposed or turned by 90 degrees).
    """
    return orientation in (5, 6, 7, 8)


def orient(array: np.ndarray, orientation: int) -> np.ndarray:
    """The stored pixels as displayed: ``array`` turned as PIL's
    ``ImageOps.exif_transpose`` (and OpenCV's ``imread``) turn an image.

    Args:
        array (np.ndarray): Stored pixels, (H, W) or (H, W, C).
        orientation (int): The EXIF orientation, 1 to 8.

    Returns:
        np.ndarray: A contiguous array, (W, H, ...) when :func:`swaps_axes`; ``array``
        itself for orientation 1.
    """
    if orientation == 1:
        return array
    if orientation == 2:
        out = array[:, ::-1]
    elif orientation == 3:
        out = array[::-1, ::-1]
    elif orientation == 4:
        out = array[::-1]
    elif orientation == 5:
        out = array.swapaxes(0, 1)
    elif orientation == 6:
        out = np.rot90(array, k=-1)
    elif orientation == 7:
        out = array.swapaxes(0, 1)[::-1, ::-1]
    elif orientation == 8:
        out = np.rot90(array, k=1)
    else:
        raise ValueError(f'EXIF orientation must be 1 to 8, got {orientation!r}')
    return np.ascontiguousarray(out)
