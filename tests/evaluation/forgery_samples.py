"""Data samples shaped as the segmentor and PackForgeryInputs make them."""
from typing import Optional

import numpy as np
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample


def square_mask(size: int, *cells: tuple) -> np.ndarray:
    """A (size, size) 0/1 mask with ones at the given (row, col) cells."""
    mask = np.zeros((size, size), dtype=np.int64)
    for row, col in cells:
        mask[row, col] = 1
    return mask


def make_data_sample(pred: Optional[np.ndarray],
                     gt: Optional[np.ndarray],
                     *,
                     score: float,
                     label: int,
                     method: str,
                     video_id: str,
                     img_path: str,
                     has_mask: Optional[bool] = None,
                     probabilities: Optional[np.ndarray] = None) -> SegDataSample:
    """A ``SegDataSample`` with a prediction and, unless ``gt`` is None, ground truth.

    The forged probability map (``seg_logits``) is ``probabilities`` when given, else .9
    where ``pred`` is 1 and .1 elsewhere."""
    sample = SegDataSample()
    metainfo = dict(img_path=img_path, seg_map_path=None, gt_label=label,
                    method=method, video_id=video_id)
    if gt is not None or pred is not None:
        shape = (gt if gt is not None else pred).shape
        metainfo.update(ori_shape=shape, img_shape=shape)
    if has_mask is not None:
        metainfo['has_mask'] = has_mask
    sample.set_metainfo(metainfo)
    if gt is not None:
        sample.gt_sem_seg = PixelData(data=torch.tensor(gt, dtype=torch.long)[None])
    if pred is not None:
        pred = torch.tensor(pred, dtype=torch.long)[None]
        sample.pred_sem_seg = PixelData(data=pred)
        # the forged probability per pixel, as the segmentor's predict() gives it
        if probabilities is None:
            sample.seg_logits = PixelData(data=pred.float() * 0.8 + 0.1)
        else:
            sample.seg_logits = PixelData(
                data=torch.tensor(probabilities, dtype=torch.float32)[None])
    sample.pred_score = torch.tensor(score)
    return sample


def make_sample(*args, **kwargs) -> dict:
    """``make_data_sample(...).to_dict()``: what ``BaseMetric.process`` receives."""
    return make_data_sample(*args, **kwargs).to_dict()
