"""Reconstruction Guided Attention (paper eq. 5-7).

``S = |F_gau - F|``, ``F_final = alpha(phi(S)) * phi(F) + F`` with ``phi`` a shared 1x1
convolution (the enhancer) and ``alpha`` a softmax. ``L_rec`` is the mean L1 distance of
``F_gau`` and ``F`` over the real samples of the batch (Table 6 also evaluates fake and
all samples: the ``rec_on`` key). Both take ``F_gau`` or, from a forward-mode encoder
pass, the difference ``F_gau - F`` itself (``diff=``).
"""
from typing import Dict, Optional

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import nn

ATTN_ACTS = ('spatial_softmax', 'channel_softmax', 'sigmoid')
REC_SAMPLES = ('real', 'fake', 'all')


@MODELS.register_module()
class RGANeck(BaseModule):
    """Reconstruction Guided Attention between clean and noisy encoder features.

    Args:
        channels: feature channels (SAM's 256).
        attn_act: ``'spatial_softmax'`` (over positions of each channel, times H*W so a
            uniform map is 1), ``'channel_softmax'`` (over channels, times C) or ``'sigmoid'``.
        rec_on: samples whose ``L_rec`` counts: ``'real'`` (paper), ``'fake'`` or ``'all'``.
        loss_weight: lambda_1 of eq. 8.
        zero_init: zero-initialise ``phi`` so that ``F_final == F`` at step 0.
    """

    def __init__(self, *, channels: int = 256, attn_act: str = 'spatial_softmax',
                 rec_on: str = 'real', loss_weight: float = 0.1, zero_init: bool = True,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if attn_act not in ATTN_ACTS:
            raise ValueError(f'attn_act must be one of {ATTN_ACTS}, got {attn_act!r}')
        if rec_on not in REC_SAMPLES:
            raise ValueError(f'rec_on must be one of {REC_SAMPLES}, got {rec_on!r}')
        self.attn_act = attn_act
        self.rec_on = rec_on
        self.loss_weight = loss_weight
        self.enhancer = nn.Conv2d(channels, channels, kernel_size=1)
        if zero_init:
            nn.init.zeros_(self.enhancer.weight)
            nn.init.zeros_(self.enhancer.bias)

    def attention(self, logits: torch.Tensor) -> torch.Tensor:
        """alpha of eq. 6 on (B, C, H, W) logits."""
        b, c, h, w = logits.shape
        if self.attn_act == 'spatial_softmax':
            return logits.flatten(2).softmax(-1).view(b, c, h, w) * (h * w)
        if self.attn_act == 'channel_softmax':
            return logits.softmax(1) * c
        return logits.sigmoid()

    def forward(self, feat: torch.Tensor, feat_noisy: Optional[torch.Tensor] = None, *,
                diff: Optional[torch.Tensor] = None) -> torch.Tensor:
        """F_final from clean features ``F`` and noisy-view features ``F_gau``, or from
        ``F`` and ``diff = F_gau - F`` when the difference was computed directly."""
        diff = _difference(feat, feat_noisy, diff).abs()
        return self.attention(self.enhancer(diff)) * self.enhancer(feat) + feat

    def sample_weights(self, gt_labels: torch.Tensor) -> torch.Tensor:
        """Per-sample weight of ``L_rec`` (1 counts, 0 does not) for labels 0 real / 1 fake."""
        if self.rec_on == 'real':
            return (gt_labels == 0).float()
        if self.rec_on == 'fake':
            return (gt_labels == 1).float()
        return torch.ones_like(gt_labels, dtype=torch.float)

    def loss(self, feat: torch.Tensor, feat_noisy: Optional[torch.Tensor],
             gt_labels: torch.Tensor, *, diff: Optional[torch.Tensor] = None
             ) -> Dict[str, torch.Tensor]:
        """``lambda_1 * L_rec``: mean over the selected samples of the mean |F_gau - F|."""
        per_sample = _difference(feat, feat_noisy, diff).abs().flatten(1).mean(1)
        weights = self.sample_weights(gt_labels).to(per_sample)
        loss = (per_sample * weights).sum() / weights.sum().clamp(min=1.0)
        return dict(loss_rec=self.loss_weight * loss)


def _difference(feat: torch.Tensor, feat_noisy: Optional[torch.Tensor],
                diff: Optional[torch.Tensor]) -> torch.Tensor:
    """``F_gau - F`` from exactly one of ``feat_noisy`` and ``diff``."""
    if (feat_noisy is None) == (diff is None):
        raise ValueError('RGANeck needs exactly one of feat_noisy (F_gau) and diff (F_gau - F)')
    return feat_noisy - feat if diff is None else diff
