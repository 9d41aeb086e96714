"""Multi-head self-attention with SAM's decomposed relative position bias.

Two paths compute the same function:

* ``'reference'``: SAM's own formulation, an explicit ``softmax(q k^T * scale + bias) v``.
* ``'sdpa'``: :func:`torch.nn.functional.scaled_dot_product_attention`, the fused kernel of
  the running device, with the decomposed bias passed as an additive mask. This is the
  default; the reference path stays for checking.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

ATTENTION_IMPLS = ('sdpa', 'reference')


def get_rel_pos(q_size: int, k_size: int, rel_pos: torch.Tensor) -> torch.Tensor:
    """Relative position embeddings for every (query, key) offset along one axis.

    ``rel_pos`` (L, C) is linearly resized when ``L != 2 * max(q_size, k_size) - 1``,
    exactly as SAM does at run time. Returns (q_size, k_size, C).
    """
    max_rel_dist = int(2 * max(q_size, k_size) - 1)
    if rel_pos.shape[0] != max_rel_dist:
        rel_pos = resize_rel_pos(rel_pos, max_rel_dist)
    q_coords = torch.arange(q_size, device=rel_pos.device)[:, None] * max(k_size / q_size, 1.0)
    k_coords = torch.arange(k_size, device=rel_pos.device)[None, :] * max(q_size / k_size, 1.0)
    relative_coords = (q_coords - k_coords) + (k_size - 1) * max(q_size / k_size, 1.0)
    return rel_pos[relative_coords.long()]


def resize_rel_pos(rel_pos: torch.Tensor, length: int) -> torch.Tensor:
    """Linearly resize a (L, C) relative position table to (length, C)."""
    resized = F.interpolate(
        rel_pos.reshape(1, rel_pos.shape[0], -1).permute(0, 2, 1), size=length, mode='linear')
    return resized.reshape(-1, length).permute(1, 0)


def decomposed_rel_pos_bias(
    q: torch.Tensor,
    rel_pos_h: torch.Tensor,
    rel_pos_w: torch.Tensor,
    q_size: Tuple[int, int],
    k_size: Tuple[int, int],
) -> torch.Tensor:
    """The additive attention bias of MViTv2's decomposed relative positions.

    ``q`` is (N, q_h * q_w, C) and unscaled. Returns (N, q_h * q_w, k_h * k_w).
    """
    q_h, q_w = q_size
    k_h, k_w = k_size
    rh = get_rel_pos(q_h, k_h, rel_pos_h).to(q.dtype)
    rw = get_rel_pos(q_w, k_w, rel_pos_w).to(q.dtype)
    n, _, dim = q.shape
    r_q = q.reshape(n, q_h, q_w, dim)
    rel_h = torch.einsum('bhwc,hkc->bhwk', r_q, rh)
    rel_w = torch.einsum('bhwc,wkc->bhwk', r_q, rw)
    bias = rel_h[:, :, :, :, None] + rel_w[:, :, :, None, :]
    return bias.reshape(n, q_h * q_w, k_h * k_w)


class RelPosAttention(nn.Module):
    """Multi-head attention over a (B, H, W, C) token grid, SAM's parameter layout.

    Parameter names (``qkv``, ``proj``, ``rel_pos_h``, ``rel_pos_w``) match
    ``segment_anything.modeling.image_encoder.Attention`` so SAM checkpoints load as they are.
    """

    def __init__(
        self,
        *,
        dim: int,
        num_heads: int,
        qkv_bias: bool = True,
        use_rel_pos: bool = True,
        input_size: Optional[Tuple[int, int]] = None,
        impl: str = 'sdpa',
    ) -> None:
        super().__init__()
        if impl not in ATTENTION_IMPLS:
            raise ValueError(f'attention impl must be one of {ATTENTION_IMPLS}, got {impl!r}')
        self.num_heads = num_heads
        head_dim = dim // num_heads
        self.scale = head_dim**-0.5
        self.impl = impl
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)
        self.use_rel_pos = use_rel_pos
        if use_rel_pos:
            if input_size is None:
                raise ValueError('input_size is needed for relative position embeddings')
            self.rel_pos_h = nn.Parameter(torch.zeros(2 * input_size[0] - 1, head_dim))
            self.rel_pos_w = nn.Parameter(torch.zeros(2 * input_size[1] - 1, head_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, h, w, _ = x.shape
        qkv = self.qkv(x).reshape(b, h * w, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.reshape(3, b * self.num_heads, h * w, -1).unbind(0)
        bias = None
        if self.use_rel_pos:
            bias = decomposed_rel_pos_bias(q, self.rel_pos_h, self.rel_pos_w, (h, w), (h, w))
        if self.impl == 'sdpa':
            out = F.scaled_dot_product_attention(
                q.unsqueeze(0), k.unsqueeze(0), v.unsqueeze(0),
                attn_mask=None if bias is None else bias.unsqueeze(0),
                scale=self.scale).squeeze(0)
        else:
            attn = (q * self.scale) @ k.transpose(-2, -1)
            if bias is not None:
                attn = attn + bias
            out = attn.softmax(dim=-1) @ v
        out = out.view(b, self.num_heads, h, w, -1).permute(0, 2, 3, 1, 4).reshape(b, h, w, -1)
        return self.proj(out)
