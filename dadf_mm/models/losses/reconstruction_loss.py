"""``L_rec`` of eq. 7: how far the noisy view's features are from the clean ones.

``L_rec = mean over the selected samples of mean_elements |F_gau - F|``, times
``loss_weight`` (lambda_1 of eq. 8, 0.1 in the paper).

Eq. 7 is read as a per-element mean. The paper writes an L1 norm, a sum over the
elements of the feature map: at ViT-H's 256 x 64 x 64 features that sum is 2^20 times the
mean. The mean keeps the loss's scale independent of the feature map's size (a 512 px or
a ViT-B model has the same ``L_rec`` for the same per-element difference), so the
paper's lambda_1 = 0.1 keeps the meaning it has in its table: a weight relative to the
per-pixel ``L_seg`` and the per-image ``L_cls``, both means too.

``samples`` chooses the samples that count (Table 6: ``'real'`` in the paper, ``'fake'``,
``'all'``); ``units='sigma'`` divides the loss by the noise's sigma, which makes it O(1)
instead of O(sigma) (a scale-free variant, docs/method.md).
"""
from typing import Optional

import torch
from mmseg.registry import MODELS
from torch import nn

REC_SAMPLES = ('real', 'fake', 'all')
REC_UNITS = ('feature', 'sigma')


@MODELS.register_module()
class ReconstructionLoss(nn.Module):
    """Mean L1 distance of the noisy and the clean view's features (eq. 7).

    Args:
        samples (str): the samples whose distance counts: ``'real'`` (paper), ``'fake'``
            or ``'all'``. Defaults to 'real'.
        units (str): ``'feature'`` (paper: mean ``|F_gau - F|``) or ``'sigma'`` (that
            divided by the noise's sigma). Defaults to 'feature'.
        loss_weight (float): lambda_1 of eq. 8. Defaults to 0.1.
        loss_name (str): name of the loss in the log (starts with ``loss_``).
            Defaults to 'loss_rec'.
    """

    def __init__(self, *, samples: str = 'real', units: str = 'feature',
                 loss_weight: float = 0.1, loss_name: str = 'loss_rec') -> None:
        super().__init__()
        if samples not in REC_SAMPLES:
            raise ValueError(f'ReconstructionLoss samples must be one of {REC_SAMPLES}, '
                             f'got {samples!r}')
        if units not in REC_UNITS:
            raise ValueError(f'ReconstructionLoss units must be one of {REC_UNITS}, '
                             f'got {units!r}')
        self.samples = samples
        self.units = units
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def sample_weights(self, gt_labels: torch.Tensor) -> torch.Tensor:
        """Per-sample weight (1 counts, 0 does not) for labels 0 real / 1 fake.

        Args:
            gt_labels (Tensor): The image labels (B,), 0 real and 1 fake.

        Returns:
            Tensor: The weights (B,), float32, each 0 or 1.
        """
        if self.samples == 'real':
            return (gt_labels == 0).float()
        if self.samples == 'fake':
            return (gt_labels == 1).float()
        return torch.ones_like(gt_labels, dtype=torch.float)

    def forward(self, diff: torch.Tensor, gt_labels: torch.Tensor, *,
                noise_std: Optional[float] = None) -> torch.Tensor:
        """``loss_weight * L_rec``; zero for a batch without a selected sample.

        Args:
            diff (Tensor): the signed difference ``F_gau - F`` (B, C, H, W).
            gt_labels (Tensor): the image labels (B,), 0 real and 1 fake.
            noise_std (float, optional): the noise's sigma; needed with
                ``units='sigma'``. Defaults to None.

        Returns:
            Tensor: the weighted loss, a 0-d tensor.
        """
        per_sample = diff.abs().flatten(1).mean(1)
        if self.units == 'sigma':
            if not noise_std:
                raise ValueError("ReconstructionLoss(units='sigma') needs the noise's "
                                 'sigma: forward(..., noise_std=...)')
            per_sample = per_sample / noise_std
        weights = self.sample_weights(gt_labels).to(per_sample)
        loss = (per_sample * weights).sum() / weights.sum().clamp(min=1.0)
        return self.loss_weight * loss

    @property
    def loss_name(self) -> str:
        """str: The loss's name in the log (mmseg's convention)."""
        return self._loss_name
