"""Image-level labels (0 real, 1 fake) of a batch of ``SegDataSample``."""
from typing import Sequence

import torch
from mmseg.structures import SegDataSample


def image_labels(data_samples: Sequence[SegDataSample], device: torch.device) -> torch.Tensor:
    """``gt_label`` from each sample's metainfo, else 1 when its mask has a forged pixel.

    Args:
        data_samples (Sequence[SegDataSample]): The batch's samples.
        device (torch.device): Where the labels are made.

    Returns:
        Tensor: The labels (B,), int64, 0 real and 1 fake.
    """
    labels = []
    for sample in data_samples:
        if 'gt_label' in sample.metainfo:
            labels.append(int(sample.metainfo['gt_label']))
        elif 'gt_sem_seg' in sample:
            labels.append(int((sample.gt_sem_seg.data == 1).any()))
        else:
            raise KeyError('a training sample has neither a gt_label nor a gt_sem_seg; pack '
                           'samples with PackForgeryInputs')
    return torch.tensor(labels, dtype=torch.long, device=device)
