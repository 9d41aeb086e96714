"""Reconstruction Guided Attention (paper eq. 5-7), and a scale-free variant.

``S = |F_gau - F|``, ``F_final = alpha(phi(S)) * phi(F) + F`` with ``phi`` a shared 1x1
convolution (the enhancer) and ``alpha`` a softmax. ``L_rec`` is the mean L1 distance of
``F_gau`` and ``F`` over the real samples of the batch (Table 6 also evaluates fake and
all samples: the ``rec_on`` key). Both take ``F_gau`` or, from a forward-mode encoder
pass, the difference ``F_gau - F`` itself (``diff=``).

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
* ``rec_units='sigma'``: ``L_rec`` divided by the noise's sigma (O(1)).
"""
from typing import Dict, Optional, Tuple

import torch
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from torch import nn

ATTN_ACTS = ('spatial_softmax', 'channel_softmax', 'sigmoid')
REC_SAMPLES = ('real', 'fake', 'all')
S_NORMS = ('none', 'image')
ENHANCERS = ('shared', 'separate')
REC_UNITS = ('feature', 'sigma')


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
        rec_on (str): samples whose ``L_rec`` counts: ``'real'`` (paper), ``'fake'`` or
            ``'all'``. Defaults to ``'real'``.
        loss_weight (float): lambda_1 of eq. 8. Defaults to 0.1.
        zero_init (bool): zero-initialise the enhancer(s) so that ``F_final == F`` at step
            0. Defaults to True.
        s_norm (str): ``'none'`` (paper) or ``'image'`` (``S`` divided by its mean over
            each image). Defaults to ``'none'``.
        enhancer (str): ``'shared'`` (paper: one ``phi`` for ``S`` and ``F``) or
            ``'separate'`` (``phi_S`` for ``S``). Defaults to ``'shared'``.
        rec_units (str): ``'feature'`` (paper: mean ``|F_gau - F|``) or ``'sigma'`` (that
            divided by the noise's sigma). Defaults to ``'feature'``.
        init_cfg (dict, optional): mmengine init config. Defaults to None.
    """

    def __init__(self, *, channels: int = 256, attn_act: str = 'spatial_softmax',
                 rec_on: str = 'real', loss_weight: float = 0.1, zero_init: bool = True,
                 s_norm: str = 'none', enhancer: str = 'shared', rec_units: str = 'feature',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        _check('attn_act', attn_act, ATTN_ACTS)
        _check('rec_on', rec_on, REC_SAMPLES)
        _check('s_norm', s_norm, S_NORMS)
        _check('enhancer', enhancer, ENHANCERS)
        _check('rec_units', rec_units, REC_UNITS)
        self.attn_act = attn_act
        self.rec_on = rec_on
        self.loss_weight = loss_weight
        self.s_norm = s_norm
        self.rec_units = rec_units
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

    def forward(self, feat: torch.Tensor, feat_noisy: Optional[torch.Tensor] = None, *,
                diff: Optional[torch.Tensor] = None) -> torch.Tensor:
        """F_final from clean features ``F`` and noisy-view features ``F_gau``, or from
        ``F`` and ``diff = F_gau - F`` when the difference was computed directly."""
        diff = _difference(feat, feat_noisy, diff)
        return self.attention_map(diff) * self.enhancer(feat) + feat

    def sample_weights(self, gt_labels: torch.Tensor) -> torch.Tensor:
        """Per-sample weight of ``L_rec`` (1 counts, 0 does not) for labels 0 real / 1 fake.

        Args:
            gt_labels (Tensor): The image labels (B,), 0 real and 1 fake.

        Returns:
            Tensor: The weights (B,), float32, each 0 or 1.
        """
        if self.rec_on == 'real':
            return (gt_labels == 0).float()
        if self.rec_on == 'fake':
            return (gt_labels == 1).float()
        return torch.ones_like(gt_labels, dtype=torch.float)

    def loss(self, feat: torch.Tensor, feat_noisy: Optional[torch.Tensor],
             gt_labels: torch.Tensor, *, diff: Optional[torch.Tensor] = None,
             noise_std: Optional[float] = None) -> Dict[str, torch.Tensor]:
        """``lambda_1 * L_rec``: mean over the selected samples of the mean |F_gau - F|
        (divided by ``noise_std`` with ``rec_units='sigma'``)."""
        per_sample = _difference(feat, feat_noisy, diff).abs().flatten(1).mean(1)
        if self.rec_units == 'sigma':
            if not noise_std:
                raise ValueError("RGANeck(rec_units='sigma') needs the noise's sigma: "
                                 'loss(..., noise_std=...)')
            per_sample = per_sample / noise_std
        weights = self.sample_weights(gt_labels).to(per_sample)
        loss = (per_sample * weights).sum() / weights.sum().clamp(min=1.0)
        return dict(loss_rec=self.loss_weight * loss)

    @torch.no_grad()
    def diagnostics(self, feat: torch.Tensor, feat_noisy: Optional[torch.Tensor] = None, *,
                    diff: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """How much RGA can steer: statistics of ``alpha`` and of ``S``, as scalars.

        Args:
            feat (Tensor): The clean features ``F`` (B, C, H, W).
            feat_noisy (Tensor, optional): The noisy-view features ``F_gau``; give exactly
                one of it and ``diff``. Defaults to None.
            diff (Tensor, optional): The difference ``F_gau - F``. Defaults to None.

        Returns:
            dict[str, Tensor]: 0-d tensors ``rga_alpha_std`` (spread of alpha over the
            positions of each channel, averaged), ``rga_alpha_min``, ``rga_alpha_max``,
            ``rga_alpha_entropy`` (for the softmax activations: entropy of the attention
            distribution over its own axis divided by that of the uniform one; 1 =
            uniform, no steering), and ``rga_s_rel`` (mean S over mean |F|, before any
            normalisation).
        """
        diff = _difference(feat, feat_noisy, diff).float()
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


def _difference(feat: torch.Tensor, feat_noisy: Optional[torch.Tensor],
                diff: Optional[torch.Tensor]) -> torch.Tensor:
    """``F_gau - F`` from exactly one of ``feat_noisy`` and ``diff``."""
    if (feat_noisy is None) == (diff is None):
        raise ValueError('RGANeck needs exactly one of feat_noisy (F_gau) and diff (F_gau - F)')
    return feat_noisy - feat if diff is None else diff


def forward_call_inputs(args: tuple, kwargs: dict) -> Tuple[torch.Tensor, torch.Tensor]:
    """``F`` and ``F_gau - F`` from the arguments of a call of :meth:`RGANeck.forward`, as a
    forward hook registered ``with_kwargs=True`` receives them (either form of the call).

    Args:
        args (tuple): the call's positional arguments (``feat`` [, ``feat_noisy``]).
        kwargs (dict): its keyword arguments (``feat_noisy`` or ``diff``).

    Returns:
        tuple[Tensor, Tensor]: ``F`` and the difference RGA read.
    """
    feat = args[0]
    noisy = args[1] if len(args) > 1 else kwargs.get('feat_noisy')
    return feat, _difference(feat, noisy, kwargs.get('diff'))
