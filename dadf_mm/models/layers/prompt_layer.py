"""A learnable prompt layer between frozen encoder blocks (the SAM+Prompt baseline).

Learnable Ophthalmology SAM (Qiu et al., the paper's reference [30]) adapts a frozen SAM
encoder with a small convolutional "prompt" added to the tokens before every block:

``x <- x + P(x)``,  ``P = GELU(LN(Conv1x1(GELU(LN(DWConv3x3(GELU(LN(Conv1x1(x)))))))))``

with the inner width ``dim / reduction`` and LN SAM's channel-wise LayerNorm2d. Here the
last LayerNorm's gain starts at zero, so ``P(x) = GELU(0) = 0`` and the adapted encoder
equals SAM at step 0, as DADF's adapters do (the gain receives a gradient at once).
"""
from typing import Optional

import torch
from segment_anything.modeling.common import LayerNorm2d
from torch import nn

from .jvp import MaybePair, conv_jvp, gelu_jvp, layer_norm_jvp, maybe_pair


class PromptLayer(nn.Module):
    """Learnable prompt on a (B, H, W, C) token grid; identity at initialisation.

    Args:
        dim (int): token channels.
        reduction (int): inner width is ``dim // reduction``. Defaults to 4.
    """

    def __init__(self, *, dim: int, reduction: int = 4) -> None:
        super().__init__()
        inner = max(dim // reduction, 1)
        self.layers = nn.Sequential(
            nn.Conv2d(dim, inner, 1), LayerNorm2d(inner), nn.GELU(),
            nn.Conv2d(inner, inner, 3, padding=1, groups=inner, bias=False),
            LayerNorm2d(inner), nn.GELU(),
            nn.Conv2d(inner, dim, 1), LayerNorm2d(dim), nn.GELU())
        nn.init.zeros_(self.layers[7].weight)

    def forward(self, x: torch.Tensor, tangent: Optional[torch.Tensor] = None,
                step: Optional[float] = None) -> MaybePair:
        """``x + P(x)`` on a token grid; with ``tangent``, also its derivative along it.

        Args:
            x (Tensor): The token grid (B, H, W, C).
            tangent (Tensor, optional): The direction (B, H, W, C); None for none.
            step (float, optional): Accepted for the adapters' interface (GELU is
                smooth, so there is no kink to step over). Defaults to None.

        Returns:
            Tensor | tuple[Tensor, Tensor]: ``x + P(x)`` (B, H, W, C); with a tangent,
            that and its derivative.
        """
        y = x.permute(0, 3, 1, 2)
        t = None if tangent is None else tangent.permute(0, 3, 1, 2)
        for layer in self.layers:
            if t is not None:
                t = self._layer_tangent(layer, y, t)
            y = layer(y)
        x = x + y.permute(0, 2, 3, 1)
        return maybe_pair(x, None if t is None else tangent + t.permute(0, 2, 3, 1))

    @staticmethod
    def _layer_tangent(layer: nn.Module, y: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The derivative of one of :attr:`layers` at ``y`` along ``t``."""
        if isinstance(layer, nn.Conv2d):
            return conv_jvp(layer, t)
        if isinstance(layer, LayerNorm2d):
            return layer_norm_jvp(y, t, layer.weight, layer.eps, dim=1).to(t.dtype)
        return gelu_jvp(y, t, layer.approximate)
