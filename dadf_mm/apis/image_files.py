"""Reading an input image for inference (``tools/infer.py``, the web page, the inferencer)
the way the dataset loader reads a listed one: through
:class:`~dadf_mm.datasets.transforms.LoadForgeryImage`, so that a file the dataset refuses
(a truncated JPEG, an empty file, no image at all) is refused here with the same message,
never scored from a half-decoded picture.

Before any pixel is decoded, the size in the file's header is checked against a limit
(:data:`DEFAULT_MAX_MEGAPIXELS`): a small PNG can declare 10000x10000 pixels, and decoding
it takes gigabytes of memory and tens of seconds.
"""
import math
import re
import warnings
from typing import Optional, Tuple

import numpy as np
from PIL import Image

from ..datasets.errors import ForgeryDataError
from ..datasets.transforms.image_loading import LoadForgeryImage

#: the largest picture an inference input may be, in millions of pixels (an 8K frame is 33)
DEFAULT_MAX_MEGAPIXELS = 40.0

_LOADER = LoadForgeryImage()  # BGR uint8, as the dataset reads an image


class ImageTooLargeError(ForgeryDataError):
    """An input image with more pixels than the limit; the message names the file, its size
    and the fix."""


def header_size(path: str) -> Optional[Tuple[int, int]]:
    """The width and height an image file's header declares, without decoding its pixels.

    Args:
        path (str): The image file.

    Returns:
        tuple[int, int] | None: ``(width, height)``, or None when Pillow cannot read the
        header (the decoder then says what is wrong with the file).

    Raises:
        PIL.Image.DecompressionBombError: The image is larger than twice Pillow's own limit
            (``PIL.Image.MAX_IMAGE_PIXELS``).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', Image.DecompressionBombWarning)
            with Image.open(path) as image:
                return tuple(image.size)
    except Image.DecompressionBombError:
        raise
    except Exception:  # noqa: B902  (not an image Pillow knows, unreadable, missing)
        return None


def check_pixel_limit(path: str, max_megapixels: float = DEFAULT_MAX_MEGAPIXELS) -> None:
    """Refuse an image whose header declares more than ``max_megapixels`` million pixels.

    Args:
        path (str): The image file (named in the message).
        max_megapixels (float): The limit (``math.inf``: none; the file is not opened).
            Defaults to :data:`DEFAULT_MAX_MEGAPIXELS`.

    Raises:
        ImageTooLargeError: The image is larger than the limit.
    """
    if math.isinf(max_megapixels):
        return
    try:
        size = header_size(path)
    except Image.DecompressionBombError as err:  # larger than Pillow's limit
        found = re.search(r'\((\d+) pixels\)', str(err))
        pixels, shape = (int(found.group(1)) if found else math.inf), ''
    else:
        if size is None:
            return
        pixels, shape = size[0] * size[1], f'{size[0]}x{size[1]} pixels, '
    if pixels <= max_megapixels * 1e6:
        return
    raise ImageTooLargeError(
        f'image {path} is too large ({shape}{pixels / 1e6:.1f} megapixels; the limit is '
        f'{max_megapixels:g}): shrink it or crop the face (the model sees it at about '
        '1 megapixel), or raise the limit with --max-megapixels')


def read_image(path: str, *, max_megapixels: float = DEFAULT_MAX_MEGAPIXELS) -> np.ndarray:
    """An input image, read as the dataset reads one, after its size is checked.

    Args:
        path (str): The image file.
        max_megapixels (float): The largest image accepted, in millions of pixels
            (``math.inf``: no limit). Defaults to :data:`DEFAULT_MAX_MEGAPIXELS`.

    Returns:
        np.ndarray: The picture, BGR uint8 (H, W, 3), its EXIF orientation applied.

    Raises:
        ImageTooLargeError: The header declares more pixels than the limit.
        ForgeryDataError: The file is missing, empty, unreadable or does not decode
            completely (a truncated JPEG); the dataset's message, naming the file.
    """
    check_pixel_limit(path, max_megapixels)
    return _LOADER(dict(img_path=path))['img']
