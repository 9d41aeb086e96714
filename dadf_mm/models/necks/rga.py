"""Reconstruction Guided Attention (paper eq. 5-7), and a scale-free variant.

``S = |F_gau - F|``, ``F_final = alpha(phi(S)) * phi(F) + F`` with ``phi`` a shared 1x1
convolution (the enhancer) and ``alpha`` a softmax. The neck reads ``F`` and the signed difference
``D = F_gau - F`` (``S = |D|``), whichever way the segmentor computed it. ``L_rec`` (eq. 7)
is the registered loss its ``loss_rec`` key names (``ReconstructionLoss``: the mean L1
distance of ``F_gau`` and ``F`` over the real samples of the batch).

Why a scale-free variant. ``S`` is of the order of ``sigma`` (1e-3) times ``F``. With one
enhancer for both terms, ``phi(S)`` is ~1e-3 of ``phi(F)``, so the spatial softmax of
``phi(S)`` is uniform to ~1e-3: for logits spread by at most ``d`` over the positions of
a channel, ``|alpha - 1| <= exp(d) - 1``, and ``d <= 2 max_c sum_k |W_ck| max S`` is
O(sigma). RGA then degenerates to ``F + phi(F)``. ``L_rec`` is O(sigma) too. Three keys,
each defaulting to the paper's formulation, remove the scale:

* ``s_norm='image'``: ``S / mean(S)`` per image (over channels and positions): O(1), and
  to first order independent of sigma (with the forward-mode pass exactly:
  ``|J u| / mean |J u|``);
* ``enhancer='separate'``: a second 1x1 convolution ``phi_S`` for ``S``, so the
  attention's logits and the enhanced features need not share one scale;
* ``loss_rec=dict(units='sigma')``: ``L_rec`` divided by the noise's sigma (O(1)).
"""
from typing import Dict, Optional

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import nn

from ..utils.moved_keys import refuse_old_keys

ATTN_ACTS = ('spatial_softmax', 'channel_softmax', 'sigmoid')
S_NORMS = ('none', 'image')
ENHANCERS = ('shared', 'separate')
#: keys of RGANeck that moved into its ``loss_rec`` dict
MOVED_KEYS = dict(
    rec_on="use model.neck.loss_rec=dict(type='ReconstructionLoss', samples=...)",
    loss_weight="use model.neck.loss_rec=dict(type='ReconstructionLoss', loss_weight=...)",
    rec_units="use model.neck.loss_rec=dict(type='ReconstructionLoss', units=...)")


def _check(name: str, value: str, allowed: tuple) -> None:
    if value not in allowed:
        raise ValueError(f'RGANeck {name} must be one of {allowed}, got {value!r}')


@MODELS.register_module()
class RGANeck(BaseModule):
    """Reconstruction Guided Attention between clean and noisy encoder features.

    Args:
        channels (int): feature channels (SAM's 256). Defaults to 256.
        attn_act (str): ``'spatial_softmax'`` (over positions of each channel, times H*W
            so a uniform map is 1), ``'channel_softmax'`` (over channels, times C) or
            ``'sigmoid'``. Defaults to ``'spatial_softmax'``.
        zero_init (bool): zero-initialise the enhancer(s) so that ``F_final == F`` at step
            0. Defaults to True.
        s_norm (str): ``'none'`` (paper) or ``'image'`` (``S`` divided by its mean over
            each image). Defaults to ``'none'``.
        enhancer (str): ``'shared'`` (paper: one ``phi`` for ``S`` and ``F``) or
            ``'separate'`` (``phi_S`` for ``S``). Defaults to ``'shared'``.
        loss_rec (dict): the config of ``L_rec`` (eq. 7, weighted by lambda_1 of eq. 8),
            a registered loss called as ``loss_rec(diff, gt_labels, noise_std=...)``.
            Defaults to ``ReconstructionLoss`` on the real samples, weight 0.1.
        init_cfg (dict, optional): mmengine init config. Defaults to None.
        **old_keys: keys the neck no longer takes (``rec_on``, ``loss_weight``,
            ``rec_units``), refused with their new place in ``loss_rec``.
    """

    def __init__(self, *, channels: int = 256, attn_act: str = 'spatial_softmax',
                 zero_init: bool = True, s_norm: str = 'none', enhancer: str = 'shared',
                 loss_rec: dict = dict(type='ReconstructionLoss', samples='real',
                                       loss_weight=0.1),
                 init_cfg: Optional[dict] = None, **old_keys) -> None:
        refuse_old_keys('model.neck', old_keys, MOVED_KEYS)
        super().__init__(init_cfg=init_cfg)
        _check('attn_act', attn_act, ATTN_ACTS)
        _check('s_norm', s_norm, S_NORMS)
        _check('enhancer', enhancer, ENHANCERS)
        self.attn_act = attn_act
        self.s_norm = s_norm
        self.loss_rec = MODELS.build(dict(dict(type='ReconstructionLoss'), **loss_rec))
        self.enhancer = nn.Conv2d(channels, channels, kernel_size=1)
        self.s_enhancer = None
        if enhancer == 'separate':
            self.s_enhancer = nn.Conv2d(channels, channels, kernel_size=1)
        if zero_init:
            for conv in (self.enhancer, self.s_enhancer):
                if conv is not None:
                    nn.init.zeros_(conv.weight)
                    nn.init.zeros_(conv.bias)

    def attention(self, logits: torch.Tensor) -> torch.Tensor:
        """alpha of eq. 6 on (B, C, H, W) logits.

        Args:
            logits (Tensor): The enhanced signal ``phi_S(S)`` (B, C, H, W).

        Returns:
            Tensor: The attention (B, C, H, W); a uniform map is 1 for the softmaxes.
        """
        b, c, h, w = logits.shape
        if self.attn_act == 'spatial_softmax':
            return logits.flatten(2).softmax(-1).view(b, c, h, w) * (h * w)
        if self.attn_act == 'channel_softmax':
            return logits.softmax(1) * c
        return logits.sigmoid()

    def signal(self, diff: torch.Tensor) -> torch.Tensor:
        """``S = |F_gau - F|``, divided by its mean over each image with ``s_norm='image'``.

        Args:
            diff (Tensor): The signed difference ``F_gau - F`` (B, C, H, W).

        Returns:
            Tensor: ``S`` (B, C, H, W).
        """
        s = diff.abs()
        if self.s_norm == 'image':
            mean = s.mean(dim=(1, 2, 3), keepdim=True)
            s = s / mean.clamp(min=torch.finfo(s.dtype).tiny)
        return s

    def attention_map(self, diff: torch.Tensor) -> torch.Tensor:
        """``alpha(phi_S(S))`` for the signed difference ``F_gau - F``.

        Args:
            diff (Tensor): The signed difference ``F_gau - F`` (B, C, H, W).

        Returns:
            Tensor: The attention map (B, C, H, W).
        """
        phi_s = self.enhancer if self.s_enhancer is None else self.s_enhancer
        return self.attention(phi_s(self.signal(diff)))

    def forward(self, feat: torch.Tensor, diff: torch.Tensor) -> torch.Tensor:
        """``F_final = alpha(phi_S(S)) * phi(F) + F`` (eq. 6).

        Args:
            feat (Tensor): The clean features ``F`` (B, C, H, W).
            diff (Tensor): The signed difference ``F_gau - F`` (B, C, H, W).

        Returns:
            Tensor: ``F_final`` (B, C, H, W).
        """
        return self.attention_map(diff) * self.enhancer(feat) + feat

    def loss(self, feat: torch.Tensor, diff: torch.Tensor, gt_labels: torch.Tensor, *,
             noise_std: Optional[float] = None) -> Dict[str, torch.Tensor]:
        """``lambda_1 * L_rec`` by the ``loss_rec`` module, under its ``loss_name``.

        Args:
            feat (Tensor): The clean features ``F`` (B, C, H, W) (not read by eq. 7,
                which needs only the difference; there for losses that do).
            diff (Tensor): The signed difference ``F_gau - F`` (B, C, H, W).
            gt_labels (Tensor): The image labels (B,), 0 real and 1 fake.
            noise_std (float, optional): The noise's sigma (``units='sigma'``).
                Defaults to None.

        Returns:
            dict[str, Tensor]: ``{loss_name: loss}`` (``loss_rec`` by default).
        """
        return {self.loss_rec.loss_name: self.loss_rec(diff, gt_labels, noise_std=noise_std)}

    @torch.no_grad()
    def diagnostics(self, feat: torch.Tensor, diff: torch.Tensor) -> Dict[str, torch.Tensor]:
        """How much RGA can steer: statistics of ``alpha`` and of ``S``, as scalars.

        Args:
            feat (Tensor): The clean features ``F`` (B, C, H, W).
            diff (Tensor): The difference ``F_gau - F`` (B, C, H, W).

        Returns:
            dict[str, Tensor]: 0-d tensors ``rga_alpha_std`` (spread of alpha over the
            positions of each channel, averaged), ``rga_alpha_min``, ``rga_alpha_max``,
            ``rga_alpha_entropy`` (for the softmax activations: entropy of the attention
            distribution over its own axis divided by that of the uniform one; 1 =
            uniform, no steering), and ``rga_s_rel`` (mean S over mean |F|, before any
            normalisation).
        """
        diff = diff.float()
        feat = feat.float()
        alpha = self.attention_map(diff)
        out = dict(
            rga_alpha_std=alpha.flatten(2).std(-1, unbiased=False).mean(),
            rga_alpha_min=alpha.amin(),
            rga_alpha_max=alpha.amax(),
            rga_s_rel=diff.abs().mean() / feat.abs().mean().clamp(min=1e-30))
        if self.attn_act != 'sigmoid':
            dim = 2 if self.attn_act == 'spatial_softmax' else 1
            p = alpha.flatten(2) if dim == 2 else alpha
            p = p / p.sum(dim, keepdim=True)
            entropy = -(p * p.clamp(min=1e-30).log()).sum(dim)
            out['rga_alpha_entropy'] = (entropy / torch.log(torch.tensor(
                float(p.shape[dim])))).mean()
        return out

