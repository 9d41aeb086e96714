"""Packing a forgery sample: mmseg's PackSegInputs plus label, method, video id, has_mask."""
from typing import Sequence

from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS

SEG_META_KEYS = ('img_path', 'seg_map_path', 'ori_shape', 'img_shape', 'pad_shape',
                 'scale_factor', 'flip', 'flip_direction', 'reduce_zero_label')
FORGERY_META_KEYS = ('gt_label', 'method', 'video_id', 'video_id_source', 'has_mask')


@TRANSFORMS.register_module()
class PackForgeryInputs(PackSegInputs):
    """``PackSegInputs`` whose data sample's metainfo also carries ``gt_label`` (int, 0
    real / 1 fake), ``method``, ``video_id``, ``video_id_source`` (how the dataset named
    the video: ``'video_id'``, ``'image'`` or ``'folder'``) and ``has_mask``.

    ``gt_sem_seg.data`` is (1, H, W) long: 0 pristine, 1 forged, 255 padding.

    Args:
        meta_keys (Sequence[str]): The keys of ``results`` copied into the data sample's
            metainfo. Defaults to ``SEG_META_KEYS + FORGERY_META_KEYS``.
    """

    def __init__(self, *, meta_keys: Sequence[str] = SEG_META_KEYS + FORGERY_META_KEYS) -> None:
        super().__init__(meta_keys=tuple(meta_keys))

    def transform(self, results: dict) -> dict:
        if 'gt_label' in results:
            results['gt_label'] = int(results['gt_label'])
        if 'has_mask' in results:
            results['has_mask'] = bool(results['has_mask'])
        return super().transform(results)
