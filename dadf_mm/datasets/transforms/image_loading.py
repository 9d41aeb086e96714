"""Loading an image so that every broken file ends in one error naming it.

mmcv's ``LoadImageFromFile`` lets OpenCV's assertion through for a zero-byte file
(``!buf.empty()``, no file name) and asserts for an undecodable one;
:class:`LoadForgeryImage` is the same transform with
:class:`~dadf_mm.datasets.errors.ForgeryDataError` instead, and it records the EXIF
orientation it applied, so that the mask is turned the same way (:mod:`.orientation`).
"""
from typing import Callable, Optional, Tuple

import mmcv
import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmengine import fileio
from mmseg.registry import TRANSFORMS

from ..errors import ForgeryDataError, MissingDataFileError, one_line
from .orientation import exif_orientation, orient

FIX = 'replace the file or remove it from the annotation list'
#: the colour types that display an image by its EXIF orientation (as mmcv and
#: ``cv2.imread`` do), and the decoder flag that leaves the turning to :func:`orient`
TURNED_COLOR_TYPES = {'color': 'color_ignore_orientation',
                      'grayscale': 'grayscale_ignore_orientation'}


def read_bytes(get: Callable[[], bytes], what: str) -> bytes:
    """The bytes of a listed file, or one error naming it.

    Args:
        get (Callable[[], bytes]): reads the file (e.g. mmengine's ``fileio.get``).
        what (str): the file as the messages name it, e.g. ``'image a.png'``.

    Returns:
        bytes: the file's content; never empty.
    """
    try:
        data = get()
    except FileNotFoundError as err:
        raise MissingDataFileError(f'{what} does not exist; {FIX}') from err
    except Exception as err:  # a directory, no permission, a backend's error
        raise ForgeryDataError(f'{what} cannot be read ({one_line(err)}); {FIX}') from err
    if not data:
        raise ForgeryDataError(f'{what} is empty (0 bytes); {FIX}')
    return data


def undecodable(what: str, data: bytes, err: Optional[BaseException]) -> ForgeryDataError:
    """The error for a file whose bytes are no image.

    Args:
        what (str): The file as the message names it, e.g. ``'image a.png'``.
        data (bytes): The file's content (its size goes into the message).
        err (BaseException, optional): The decoder's error, if it raised one.

    Returns:
        ForgeryDataError: The error to raise, naming the file and the fix.
    """
    cause = f'; {one_line(err)}' if err is not None else ''
    return ForgeryDataError(f'{what} cannot be decoded as an image ({len(data)} bytes{cause}); '
                            f'{FIX}')


@TRANSFORMS.register_module()
class LoadForgeryImage(LoadImageFromFile):
    """mmcv's ``LoadImageFromFile`` (same arguments, keys and results) whose failures are
    one :class:`~dadf_mm.datasets.errors.ForgeryDataError` naming the file: missing
    (:class:`~dadf_mm.datasets.errors.MissingDataFileError`), unreadable, empty, not an
    image, or too large for the decoder. With ``ignore_empty=True`` such a sample is
    dropped (``None``), as mmcv does.

    With ``color_type`` ``'color'`` (the default) or ``'grayscale'`` the image is turned
    by its EXIF orientation, as mmcv, ``cv2.imread`` and image viewers show it, whatever
    the decoding backend; ``'unchanged'`` and the ``*_ignore_orientation`` types keep the
    stored pixels. The orientation applied (1: none) is recorded as
    ``exif_orientation``; ``LoadForgeryAnnotations`` turns the mask the same way.

    Required keys: ``img_path``. Added keys: ``img``, ``img_shape``, ``ori_shape``,
    ``exif_orientation``.
    """

    def _get(self, filename: str) -> bytes:
        if self.file_client_args is not None:
            client = fileio.FileClient.infer_client(self.file_client_args, filename)
            return client.get(filename)
        return fileio.get(filename, backend_args=self.backend_args)

    def _load(self, filename: str) -> Tuple[np.ndarray, int]:
        what = f'image {filename}'
        data = read_bytes(lambda: self._get(filename), what)
        turned = self.color_type in TURNED_COLOR_TYPES
        flag = self.color_type
        if turned and self.imdecode_backend in ('cv2', 'pillow'):  # the others never turn
            flag = TURNED_COLOR_TYPES[self.color_type]
        try:
            img = mmcv.imfrombytes(data, flag=flag, backend=self.imdecode_backend)
        except Exception as err:  # cv2.error, PIL's UnidentifiedImageError, ...
            raise undecodable(what, data, err) from err
        if img is None or img.size == 0 or img.ndim not in (2, 3):
            raise undecodable(what, data, None)
        orientation = exif_orientation(data) if turned else 1
        return orient(img, orientation), orientation

    def transform(self, results: dict) -> Optional[dict]:
        filename = results['img_path']
        try:
            img, orientation = self._load(filename)
        except ForgeryDataError:
            if self.ignore_empty:
                return None
            raise
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        results['exif_orientation'] = orientation
        return results
