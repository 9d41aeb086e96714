"""Loading a forgery mask next to its image."""
from typing import Optional

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio
from mmseg.registry import TRANSFORMS

from ..errors import ForgeryDataError
from .image_loading import read_bytes, undecodable
from .orientation import ORIENTATIONS, orient, swaps_axes


@TRANSFORMS.register_module()
class LoadForgeryAnnotations(BaseTransform):
    """Loads ``gt_seg_map`` (0 pristine, 1 forged) for the image loaded before it.

    The mask has the image's size as loaded (``ori_shape``): before ``Resize`` in a training
    pipeline, after it in a test pipeline (mmseg's convention: ground truth at the original
    size). A sample without a mask file (``seg_map_path`` None) is either real, and gets an
    all-zero mask (nothing is forged), or fake with unknown localisation (``has_mask``
    False: FF++ converted with ``--no-masks``, a list without ``mask_path``), and gets a
    mask of ``ignore_index``: ``L_seg`` leaves it out (an all-zero mask would teach
    "nothing forged here" while ``L_cls`` says fake), ``L_cls`` and the detection metrics
    still count it, localisation metrics skip it (``has_mask`` False). Mask files
    may be 0/255 (forged where grey value > ``threshold``), 0/1 label maps (forged where
    1) or colour (the brightest channel counts).

    A mask labels its image's stored pixels: it is turned with the EXIF orientation its
    image was turned by (``exif_orientation``, recorded by ``LoadForgeryImage``; absent:
    none), and its own orientation tag, if any, is not used. So a mask made from the
    pixel array (FF++'s masks, a generated forgery's) lines up with a photo that a
    camera stored on its side; a mask drawn on the photo as a viewer shows it must be
    turned back first (see docs/data.md).

    A sample without annotation info (neither ``seg_map_path`` nor ``gt_label`` among its
    keys: an image given to ``mmseg.apis.inference_model`` or an inferencer) passes through
    unchanged: no ground truth is invented for it, so its packed data sample has no
    ``gt_sem_seg``. Every dataset sample carries ``seg_map_path`` (``None`` without a file).

    Errors (:class:`~dadf_mm.datasets.errors.ForgeryDataError`), each naming the files: a
    missing, empty or undecodable mask, a mask whose size differs from its image's, and a
    real image (``gt_label`` 0) whose mask marks forged pixels.

    Required keys: ``ori_shape`` (or ``img``), ``img_path``, ``seg_map_path`` or
    ``gt_label`` (else the sample passes through). Optional: ``exif_orientation``.
    Added keys: ``gt_seg_map`` (uint8, H x W), ``seg_fields``.

    Args:
        threshold (int): grey value above which a pixel of an 8-bit mask is forged.
            Defaults to 127.
        ignore_index (int): the mask value of a fake without a mask file (pixels left out
            of ``L_seg``; mmseg's ``ignore_index``). Defaults to 255.
        backend_args (dict, optional): mmengine file backend arguments. Defaults to None.
    """

    def __init__(self, *, threshold: int = 127, ignore_index: int = 255,
                 backend_args: Optional[dict] = None) -> None:
        self.threshold = threshold
        self.ignore_index = ignore_index
        self.backend_args = backend_args

    def _read(self, path: str, img_path: str) -> np.ndarray:
        what = f'mask {path} (of image {img_path})'
        data = read_bytes(lambda: fileio.get(path, backend_args=self.backend_args), what)
        try:
            mask = mmcv.imfrombytes(data, flag='unchanged', backend='pillow')
        except Exception as err:  # PIL's UnidentifiedImageError, DecompressionBombError, ...
            raise undecodable(what, data, err) from err
        if mask is None or mask.size == 0 or mask.ndim not in (2, 3):
            raise undecodable(what, data, None)
        if mask.ndim == 3:  # grey + alpha: the grey; colour (+ alpha): the brightest colour
            mask = mask[..., 0] if mask.shape[2] == 2 else mask[..., :3].max(axis=2)
        return mask

    def binarise(self, mask: np.ndarray) -> np.ndarray:
        """0/1 uint8: ``mask > 0`` for a 0/1 label map, else ``mask > threshold``.

        Args:
            mask (np.ndarray): The decoded mask (H, W), grey values or a 0/1 label map.

        Returns:
            np.ndarray: The binary mask (H, W), uint8: 1 forged, 0 pristine.
        """
        cut = 0 if mask.max() <= 1 else self.threshold
        return (mask > cut).astype(np.uint8)

    def transform(self, results: dict) -> dict:
        if 'seg_map_path' not in results and 'gt_label' not in results:
            return results  # an inference input: its truth is unknown, none is made up
        if 'ori_shape' not in results and 'img' not in results:
            raise KeyError('LoadForgeryAnnotations needs the image: put it after '
                           'LoadForgeryImage (or LoadImageFromFile)')
        img_path = results.get('img_path', '<in-memory image>')
        # the image's size as loaded: in a test pipeline (Resize before this transform, as
        # mmseg does) the ground truth stays at the original size
        shape = results['ori_shape'] if 'ori_shape' in results else results['img'].shape
        height, width = shape[:2]
        path = results.get('seg_map_path')
        if path is None:
            unknown = results.get('gt_label') == 1  # a fake whose forged pixels are unknown
            gt = np.full((height, width), self.ignore_index if unknown else 0, dtype=np.uint8)
        else:
            stored = self._read(path, img_path)
            orientation = int(results.get('exif_orientation', 1))
            mask = orient(stored, orientation)
            if mask.shape[:2] != (height, width):
                raise ForgeryDataError(
                    size_mismatch(path, img_path, stored.shape[:2], (height, width),
                                  orientation))
            gt = self.binarise(mask)
            if results.get('gt_label') == 0 and gt.any():
                raise ForgeryDataError(
                    f'{img_path} is labelled real (0) but its mask {path} marks '
                    f'{int(gt.sum())} forged pixels; fix the label or the mask')
        results['gt_seg_map'] = gt
        results.setdefault('seg_fields', [])
        if 'gt_seg_map' not in results['seg_fields']:
            results['seg_fields'].append('gt_seg_map')
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(threshold={self.threshold}, '
                f'ignore_index={self.ignore_index})')


def size_mismatch(path: str, img_path: str, mask_shape: tuple, shown_shape: tuple,
                  orientation: int) -> str:
    """The message for a mask whose size is not its image's.

    Args:
        path (str): The mask file.
        img_path (str): Its image.
        mask_shape (tuple): The mask's stored (H, W).
        shown_shape (tuple): The image's (H, W) as loaded, after its EXIF orientation.
        orientation (int): The EXIF orientation the image was turned by (1: none).

    Returns:
        str: One line naming both files, both sizes and the fix.
    """
    mask_h, mask_w = mask_shape
    shown_h, shown_w = shown_shape
    if orientation == 1:
        return (f'mask {path} is {mask_w}x{mask_h} (WxH) but its image {img_path} is '
                f"{shown_w}x{shown_h}; a mask must have its image's size")
    stored_h, stored_w = (shown_w, shown_h) if swaps_axes(orientation) else shown_shape
    if (mask_h, mask_w) == (shown_h, shown_w):
        fix = ('it fits the image as shown: turn the mask back to the stored pixels, or save '
               'the image upright without the orientation tag')
    else:
        fix = "a mask must have its image's stored size"
    return (f'mask {path} is {mask_w}x{mask_h} (WxH) but its image {img_path} is stored as '
            f'{stored_w}x{stored_h} and shown {shown_w}x{shown_h} (EXIF orientation '
            f'{orientation}: {ORIENTATIONS[orientation]}); a mask labels the stored pixels '
            f'and is turned with them: {fix}')
