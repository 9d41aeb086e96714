"""The Multiscale Adapter R of DADF (paper eq. 2-3, Fig. 3).

``R(x') = Conv''(concat(f(c(x')), g(c(x')), h(c(x')))) + Conv'''(x')`` where ``c`` is a
1x1 convolution to ``inner_channels`` and the branches are

* f: 1x1 conv -> 3x3 conv, dilation 1 (the "1x1 branch")
* g: 3x3 conv -> 3x3 conv, dilation 3 (the "3x3 branch")
* h: 5x5 conv -> 3x3 conv, dilation 5 (the "5x5 branch")

each convolution followed by a norm layer and ReLU. Variants of Fig. 3 / Table 5:
``'A'`` all branches (the paper's adapter), ``'B'`` no dilation, ``'C'`` without the 3x3
branch, ``'D'`` without the 1x1 branch.

The output projection ``Conv''`` is zero-initialised and the skip ``Conv'''`` is
identity-initialised; neither has a norm or ReLU, because they meet the residual stream of
the frozen encoder: at initialisation ``R`` is the identity and the adapted encoder equals
pretrained SAM exactly (a ReLU on the skip would delete every negative SAM feature).
"""
from typing import Dict, List, Optional, Tuple

import torch
from mmcv.cnn import ConvModule
from torch import nn

from .jvp import MaybePair, conv_jvp, conv_module_jvp

# branch name -> ((first kernel, first dilation), (second kernel, second dilation))
_BRANCHES: Dict[str, Tuple[Tuple[int, int], Tuple[int, int]]] = {
    'f': ((1, 1), (3, 1)),
    'g': ((3, 1), (3, 3)),
    'h': ((5, 1), (3, 5)),
}
ADAPTER_VARIANTS: Dict[str, List[str]] = {
    'A': ['f', 'g', 'h'],
    'B': ['f', 'g', 'h'],  # same branches, dilations set to 1
    'C': ['f', 'h'],
    'D': ['g', 'h'],
}


class MultiscaleAdapter(nn.Module):
    """Multiscale Adapter on a (B, H, W, C) token grid; identity at initialisation.

    Args:
        dim (int): Channels C of the token grid.
        inner_channels (int): Channels of ``c`` and of the branches. Defaults to 256.
        variant (str): ``'A'``, ``'B'``, ``'C'`` or ``'D'`` (see the module docstring).
            Defaults to 'A'.
        skip (str): ``'conv'``: the skip ``Conv'''`` (identity-initialised 1x1
            convolution); ``'identity'``: a plain residual. Defaults to 'conv'.
        norm_cfg (dict): Norm layer of the branch convolutions. Defaults to
            ``dict(type='BN')``.
    """

    def __init__(
        self,
        *,
        dim: int,
        inner_channels: int = 256,
        variant: str = 'A',
        skip: str = 'conv',
        norm_cfg: dict = dict(type='BN'),
    ) -> None:
        super().__init__()
        if variant not in ADAPTER_VARIANTS:
            raise ValueError(f'adapter variant must be one of {sorted(ADAPTER_VARIANTS)}, '
                             f'got {variant!r}')
        if skip not in ('conv', 'identity'):
            raise ValueError(f"adapter skip must be 'conv' or 'identity', got {skip!r}")
        self.variant = variant

        def conv(cin: int, cout: int, kernel: int, dilation: int) -> ConvModule:
            return ConvModule(cin, cout, kernel, padding=dilation * (kernel // 2),
                              dilation=dilation, norm_cfg=norm_cfg, act_cfg=dict(type='ReLU'))

        self.input_proj = conv(dim, inner_channels, 1, 1)
        self.branches = nn.ModuleDict()
        for name in ADAPTER_VARIANTS[variant]:
            (k1, d1), (k2, d2) = _BRANCHES[name]
            if variant == 'B':
                d2 = 1
            self.branches[name] = nn.Sequential(
                conv(inner_channels, inner_channels, k1, d1),
                conv(inner_channels, inner_channels, k2, d2))
        self.output_proj = nn.Conv2d(inner_channels * len(self.branches), dim, 1)
        nn.init.zeros_(self.output_proj.weight)
        nn.init.zeros_(self.output_proj.bias)
        self.skip = None
        if skip == 'conv':
            self.skip = nn.Conv2d(dim, dim, 1)
            with torch.no_grad():
                self.skip.weight.copy_(torch.eye(dim).view(dim, dim, 1, 1))
                self.skip.bias.zero_()

    def forward(self, x: torch.Tensor, tangent: Optional[torch.Tensor] = None,
                step: Optional[float] = None) -> MaybePair:
        """``R(x)`` on a token grid; with ``tangent``, also its derivative along it.

        Args:
            x (Tensor): The token grid (B, H, W, C).
            tangent (Tensor, optional): The direction (B, H, W, C); None for none.
            step (float, optional): With a tangent and a step, the ReLUs pass the
                difference over ``step * tangent`` instead of their derivative (see
                :func:`~.jvp.relu_difference`). Defaults to None.

        Returns:
            Tensor | tuple[Tensor, Tensor]: ``R(x)`` (B, H, W, C); with a tangent,
            ``R(x)`` and its derivative.
        """
        x = x.permute(0, 3, 1, 2)
        if tangent is not None:
            tangent = tangent.permute(0, 3, 1, 2)
        inner, t_inner = conv_module_jvp(self.input_proj, x, tangent, step)
        outs, t_outs = [], []
        for branch in self.branches.values():
            y, t_y = inner, t_inner
            for conv in branch:
                y, t_y = conv_module_jvp(conv, y, t_y, step)
            outs.append(y)
            t_outs.append(t_y)
        out = self.output_proj(torch.cat(outs, 1))
        out = out + (x if self.skip is None else self.skip(x))
        if tangent is None:
            return out.permute(0, 2, 3, 1)
        t_out = conv_jvp(self.output_proj, torch.cat(t_outs, 1))
        t_out = t_out + (tangent if self.skip is None else conv_jvp(self.skip, tangent))
        return out.permute(0, 2, 3, 1), t_out.permute(0, 2, 3, 1)
