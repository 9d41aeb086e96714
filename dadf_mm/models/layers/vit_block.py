"""SAM's ViT block (windowed or global attention) and patch embedding.

Given a ``tangent`` as well, the block and the patch embedding also return the directional
derivative of their output (see :mod:`.jvp`).
"""
from typing import Optional, Tuple, Type

import torch
from segment_anything.modeling.common import MLPBlock
from torch import nn

from .attention import RelPosAttention
from .jvp import (
    MaybePair,
    activation_jvp,
    as_pair,
    conv_jvp,
    layer_norm_jvp,
    linear_jvp,
    maybe_pair,
)


class PatchEmbed(nn.Module):
    """Image to (B, H/p, W/p, C) patch tokens; ``proj`` as in SAM.

    Args:
        patch_size (int): The patch size p (kernel and stride). Defaults to 16.
        in_chans (int): Input channels. Defaults to 3.
        embed_dim (int): Token channels C. Defaults to 768.
    """

    def __init__(self, *, patch_size: int = 16, in_chans: int = 3, embed_dim: int = 768) -> None:
        super().__init__()
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size)

    def forward(self, x: torch.Tensor, tangent: Optional[torch.Tensor] = None) -> MaybePair:
        """Patch tokens of images; with ``tangent``, also their derivative along it.

        Args:
            x (Tensor): The images (B, C_in, H, W).
            tangent (Tensor, optional): The direction (B, C_in, H, W); None for none.

        Returns:
            Tensor | tuple[Tensor, Tensor]: The tokens (B, H/p, W/p, C); with a tangent,
            the tokens and their derivative.
        """
        if tangent is not None:
            tangent = conv_jvp(self.proj, tangent).permute(0, 2, 3, 1)
        return maybe_pair(self.proj(x).permute(0, 2, 3, 1), tangent)


class ViTBlock(nn.Module):
    """Pre-norm transformer block with window or global attention (SAM's ``Block``).

    Args:
        dim (int): Token channels.
        num_heads (int): Attention heads.
        mlp_ratio (float): MLP hidden channels per token channel. Defaults to 4.0.
        qkv_bias (bool): Whether the qkv projection has a bias. Defaults to True.
        norm_layer (Type[nn.Module]): Norm layer class. Defaults to ``nn.LayerNorm``.
        act_layer (Type[nn.Module]): Activation class of the MLP. Defaults to ``nn.GELU``.
        use_rel_pos (bool): Add decomposed relative position terms to the attention.
            Defaults to True.
        window_size (int): Window size of windowed attention; 0 for global attention.
            Defaults to 0.
        input_size (tuple[int, int], optional): Token grid size (H, W) of global
            attention, for the relative positions. Defaults to None.
        attn_impl (str): Attention implementation, see
            :class:`~.attention.RelPosAttention`. Defaults to 'sdpa'.
    """

    def __init__(
        self,
        *,
        dim: int,
        num_heads: int,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        norm_layer: Type[nn.Module] = nn.LayerNorm,
        act_layer: Type[nn.Module] = nn.GELU,
        use_rel_pos: bool = True,
        window_size: int = 0,
        input_size: Optional[Tuple[int, int]] = None,
        attn_impl: str = 'sdpa',
    ) -> None:
        super().__init__()
        self.norm1 = norm_layer(dim)
        self.attn = RelPosAttention(
            dim=dim,
            num_heads=num_heads,
            qkv_bias=qkv_bias,
            use_rel_pos=use_rel_pos,
            input_size=input_size if window_size == 0 else (window_size, window_size),
            impl=attn_impl)
        self.norm2 = norm_layer(dim)
        self.mlp = MLPBlock(embedding_dim=dim, mlp_dim=int(dim * mlp_ratio), act=act_layer)
        self.window_size = window_size

    def forward(self, x: torch.Tensor, tangent: Optional[torch.Tensor] = None) -> MaybePair:
        """The block on a token grid; with ``tangent``, also its derivative along it.

        Args:
            x (Tensor): The token grid (B, H, W, C).
            tangent (Tensor, optional): The direction (B, H, W, C); None for none.

        Returns:
            Tensor | tuple[Tensor, Tensor]: The output (B, H, W, C); with a tangent, the
            output and its derivative.
        """
        shortcut, t_shortcut = x, tangent
        tangent = self._norm_tangent(self.norm1, x, tangent)
        x, tangent = as_pair(self.attn(self.norm1(x), tangent, window_size=self.window_size))
        x = shortcut + x
        mlp = self.mlp
        hidden = mlp.lin1(self.norm2(x))
        out = x + mlp.lin2(mlp.act(hidden))
        if tangent is None:
            return out
        tangent = t_shortcut + tangent
        t_hidden = linear_jvp(mlp.lin1, self._norm_tangent(self.norm2, x, tangent))
        return out, tangent + linear_jvp(mlp.lin2, activation_jvp(mlp.act, hidden, t_hidden))

    @staticmethod
    def _norm_tangent(norm: nn.LayerNorm, x: torch.Tensor, tangent: Optional[torch.Tensor]
                      ) -> Optional[torch.Tensor]:
        """The derivative of ``norm`` at ``x`` along ``tangent`` (None without one)."""
        if tangent is None:
            return None
        return layer_norm_jvp(x, tangent, norm.weight, norm.eps).to(tangent.dtype)
