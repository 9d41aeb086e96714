"""Multi-head self-attention with SAM's decomposed relative position bias.

Three paths compute the same function:

* ``'reference'``: SAM's own formulation, an explicit ``softmax(q k^T * scale + bias) v``.
* ``'sdpa'``: :func:`torch.nn.functional.scaled_dot_product_attention` with the decomposed
  bias materialised as an additive (N, HW, HW) mask. This is the default.
* ``'sdpa_folded'``: the same SDPA call with the bias folded into the dot product, so no
  (N, HW, HW) tensor exists and the flash / memory-efficient kernels can run. The bias of
  query i and key j = (j_h, j_w) is ``rel_h[i, j_h] + rel_w[i, j_w]``; appending ``rel_h[i]``
  and ``rel_w[i]`` to the (pre-scaled) query and one-hot row / column indicators of j to the
  key gives ``q_i . k_j * scale + bias_ij`` as one dot product of head dim
  ``C + k_h + k_w`` (padded to a multiple of 8; ``v`` is zero-padded to the same width).

``forward(x, tangent)`` also returns the directional derivative of the output along
``tangent`` (forward-mode, written out; see :mod:`.jvp`). The output is the chosen path's,
so it is the same with and without a tangent; the derivative uses the explicit
formulation, because it needs the softmax probabilities.
"""
from typing import Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from .jvp import MaybePair, linear_jvp, maybe_pair, softmax_attention_tangent
from .windows import window_partition, window_unpartition

ATTENTION_IMPLS = ('sdpa', 'sdpa_folded', 'reference')


def get_rel_pos(q_size: int, k_size: int, rel_pos: torch.Tensor) -> torch.Tensor:
    """Relative position embeddings for every (query, key) offset along one axis.

    ``rel_pos`` (L, C) is linearly resized when ``L != 2 * max(q_size, k_size) - 1``,
    exactly as SAM does at run time. Returns (q_size, k_size, C).

    Args:
        q_size (int): Query positions along the axis.
        k_size (int): Key positions along the axis.
        rel_pos (Tensor): The relative position table (L, C).

    Returns:
        Tensor: The embedding of each (query, key) offset, (q_size, k_size, C).
    """
    max_rel_dist = int(2 * max(q_size, k_size) - 1)
    if rel_pos.shape[0] != max_rel_dist:
        rel_pos = resize_rel_pos(rel_pos, max_rel_dist)
    q_coords = torch.arange(q_size, device=rel_pos.device)[:, None] * max(k_size / q_size, 1.0)
    k_coords = torch.arange(k_size, device=rel_pos.device)[None, :] * max(q_size / k_size, 1.0)
    relative_coords = (q_coords - k_coords) + (k_size - 1) * max(q_size / k_size, 1.0)
    return rel_pos[relative_coords.long()]


def resize_rel_pos(rel_pos: torch.Tensor, length: int) -> torch.Tensor:
    """Linearly resize a (L, C) relative position table to (length, C).

    Args:
        rel_pos (Tensor): The table (L, C).
        length (int): The new length.

    Returns:
        Tensor: The resized table (length, C).
    """
    resized = F.interpolate(
        rel_pos.reshape(1, rel_pos.shape[0], -1).permute(0, 2, 1), size=length, mode='linear')
    return resized.reshape(-1, length).permute(1, 0)


def rel_pos_terms(
    q: torch.Tensor,
    rel_pos_h: torch.Tensor,
    rel_pos_w: torch.Tensor,
    q_size: Tuple[int, int],
    k_size: Tuple[int, int],
) -> Tuple[torch.Tensor, torch.Tensor]:
    """The per-query terms of the decomposed bias: ``rel_h`` (N, q_h, q_w, k_h) and
    ``rel_w`` (N, q_h, q_w, k_w), for an unscaled ``q`` of shape (N, q_h * q_w, C).

    Args:
        q (Tensor): The unscaled queries (N, q_h * q_w, C).
        rel_pos_h (Tensor): The relative position table along the height (L_h, C).
        rel_pos_w (Tensor): The relative position table along the width (L_w, C).
        q_size (tuple[int, int]): The query grid (q_h, q_w).
        k_size (tuple[int, int]): The key grid (k_h, k_w).

    Returns:
        tuple[Tensor, Tensor]: ``rel_h`` (N, q_h, q_w, k_h) and ``rel_w``
        (N, q_h, q_w, k_w), in ``q``'s dtype.
    """
    q_h, q_w = q_size
    k_h, k_w = k_size
    rh = get_rel_pos(q_h, k_h, rel_pos_h).to(q.dtype)
    rw = get_rel_pos(q_w, k_w, rel_pos_w).to(q.dtype)
    n, _, dim = q.shape
    r_q = q.reshape(n, q_h, q_w, dim)
    rel_h = torch.einsum('bhwc,hkc->bhwk', r_q, rh)
    rel_w = torch.einsum('bhwc,wkc->bhwk', r_q, rw)
    return rel_h, rel_w


def decomposed_rel_pos_bias(
    q: torch.Tensor,
    rel_pos_h: torch.Tensor,
    rel_pos_w: torch.Tensor,
    q_size: Tuple[int, int],
    k_size: Tuple[int, int],
) -> torch.Tensor:
    """The additive attention bias of MViTv2's decomposed relative positions.

    ``q`` is (N, q_h * q_w, C) and unscaled. Returns (N, q_h * q_w, k_h * k_w).

    Args:
        q (Tensor): The unscaled queries (N, q_h * q_w, C).
        rel_pos_h (Tensor): The relative position table along the height (L_h, C).
        rel_pos_w (Tensor): The relative position table along the width (L_w, C).
        q_size (tuple[int, int]): The query grid (q_h, q_w).
        k_size (tuple[int, int]): The key grid (k_h, k_w).

    Returns:
        Tensor: The bias (N, q_h * q_w, k_h * k_w).
    """
    return rel_pos_bias(*rel_pos_terms(q, rel_pos_h, rel_pos_w, q_size, k_size))


def rel_pos_bias(rel_h: torch.Tensor, rel_w: torch.Tensor) -> torch.Tensor:
    """The additive bias (N, q_h * q_w, k_h * k_w) of the terms of :func:`rel_pos_terms`.

    Args:
        rel_h (Tensor): The height terms (N, q_h, q_w, k_h).
        rel_w (Tensor): The width terms (N, q_h, q_w, k_w).

    Returns:
        Tensor: ``bias[n, i, (j_h, j_w)] = rel_h[n, i, j_h] + rel_w[n, i, j_w]``.
    """
    n, q_h, q_w, k_h = rel_h.shape
    bias = rel_h[:, :, :, :, None] + rel_w[:, :, :, None, :]
    return bias.reshape(n, q_h * q_w, k_h * rel_w.shape[-1])


def folded_query_key(q: torch.Tensor, k: torch.Tensor, rel_h: Optional[torch.Tensor],
                     rel_w: Optional[torch.Tensor], scale: float
                     ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Query and key whose dot product is ``q . k * scale + bias``.

    ``q``, ``k`` are (N, L, C); ``rel_h`` (N, q_h, q_w, k_h) and ``rel_w`` (N, q_h, q_w, k_w)
    are the terms of :func:`rel_pos_terms` (``None``: no bias). Key j = (j_h, j_w) gets the
    one-hot indicators of its row j_h and column j_w, the query its ``rel_h``, ``rel_w``.

    Args:
        q (Tensor): The unscaled queries (N, L, C).
        k (Tensor): The keys (N, L, C).
        rel_h (Tensor, optional): The height terms (N, q_h, q_w, k_h); None for no bias.
        rel_w (Tensor, optional): The width terms (N, q_h, q_w, k_w); None for no bias.
        scale (float): The attention scale.

    Returns:
        tuple[Tensor, Tensor]: The query and key, each (N, L, C + k_h + k_w); without a
        bias ``q * scale`` and ``k`` (N, L, C).
    """
    if rel_h is None:
        return q * scale, k
    n, length, _ = q.shape
    k_h, k_w = rel_h.shape[-1], rel_w.shape[-1]
    key_index = torch.arange(k.shape[1], device=k.device)
    rows = F.one_hot(key_index // k_w, k_h).to(k.dtype)
    cols = F.one_hot(key_index % k_w, k_w).to(k.dtype)
    q_aug = torch.cat([q * scale, rel_h.reshape(n, length, k_h).to(q.dtype),
                       rel_w.reshape(n, length, k_w).to(q.dtype)], -1)
    k_aug = torch.cat([k, rows.expand(n, -1, -1), cols.expand(n, -1, -1)], -1)
    return q_aug, k_aug


def folded_rel_pos_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                             rel_h: torch.Tensor, rel_w: torch.Tensor,
                             scale: float) -> torch.Tensor:
    """``softmax(q k^T * scale + bias) v`` through SDPA without materialising ``bias``.

    Head dims are zero-padded to a multiple of 8 and ``v`` to the query's width, as the
    flash kernels need equal head dims.

    Args:
        q (Tensor): The unscaled queries (N, L, C).
        k (Tensor): The keys (N, L, C).
        v (Tensor): The values (N, L, C).
        rel_h (Tensor): The height terms of :func:`rel_pos_terms` (N, q_h, q_w, k_h).
        rel_w (Tensor): The width terms of :func:`rel_pos_terms` (N, q_h, q_w, k_w).
        scale (float): The attention scale.

    Returns:
        Tensor: The attention output (N, L, C).
    """
    dim = q.shape[-1]
    q_aug, k_aug = folded_query_key(q, k, rel_h, rel_w, scale)
    width = q_aug.shape[-1]
    pad = -width % 8
    q_aug = F.pad(q_aug, (0, pad))
    k_aug = F.pad(k_aug, (0, pad))
    v_aug = F.pad(v, (0, width + pad - dim))
    out = F.scaled_dot_product_attention(
        q_aug.unsqueeze(0), k_aug.unsqueeze(0), v_aug.unsqueeze(0), scale=1.0)
    return out.squeeze(0)[..., :dim]


class RelPosAttention(nn.Module):
    """Multi-head attention over a (B, H, W, C) token grid, SAM's parameter layout.

    Parameter names (``qkv``, ``proj``, ``rel_pos_h``, ``rel_pos_w``) match
    ``segment_anything.modeling.image_encoder.Attention`` so SAM checkpoints load as they are.

    Args:
        dim (int): Token channels.
        num_heads (int): Attention heads.
        qkv_bias (bool): Whether the qkv projection has a bias. Defaults to True.
        use_rel_pos (bool): Add the decomposed relative position bias. Defaults to True.
        input_size (tuple[int, int], optional): Token grid size (H, W) the relative
            position tables are made for; needed with ``use_rel_pos``. Defaults to None.
        impl (str): ``'sdpa'``, ``'sdpa_folded'`` or ``'reference'`` (see the module
            docstring). Defaults to 'sdpa'.
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

    def forward(self, x: torch.Tensor, tangent: Optional[torch.Tensor] = None,
                window_size: int = 0) -> MaybePair:
        """Attention over a token grid, or within its windows; with ``tangent``, also its
        directional derivative.

        Windowed (SAM's windowed blocks): SAM pads the grid with zero tokens and projects
        the windows; a zero token's projection is the projection of zero, so here the
        tokens are projected before the split, the padding gets that projection, and the
        output projection runs after the merge: the same function, without projecting
        the padding (at 512 px, 42 x 42 windowed tokens for a 32 x 32 grid). A grid that
        needs no padding is projected in SAM's order (the windows), bit for bit as before.

        Args:
            x (Tensor): The token grid (B, H, W, C).
            tangent (Tensor, optional): The direction (B, H, W, C); None for none.
            window_size (int): Attend within windows of this size; 0 for the whole grid.
                Defaults to 0.

        Returns:
            Tensor | tuple[Tensor, Tensor]: The output (B, H, W, C); with a tangent, the
            output and its derivative.
        """
        grid = x.shape[1:3]
        padded = bool(window_size) and bool(grid[0] % window_size or grid[1] % window_size)
        if window_size and not padded:  # the windows only reorder the tokens: SAM's order
            x, pad_hw = window_partition(x, window_size)
            if tangent is not None:
                tangent, _ = window_partition(tangent, window_size)
        qkv = self.qkv(x)
        t_qkv = None if tangent is None else linear_jvp(self.qkv, tangent)
        if padded:
            fill = self.qkv(x.new_zeros(1, x.shape[-1]))[0]
            qkv, pad_hw = window_partition(qkv, window_size, fill)
            if t_qkv is not None:
                t_qkv, _ = window_partition(t_qkv, window_size)
        out, t_out = self._attend_grid(qkv, t_qkv)
        if padded:
            out = window_unpartition(out, window_size, pad_hw, grid)
            if t_out is not None:
                t_out = window_unpartition(t_out, window_size, pad_hw, grid)
        out = self.proj(out)
        t_out = None if t_out is None else linear_jvp(self.proj, t_out)
        if window_size and not padded:
            out = window_unpartition(out, window_size, pad_hw, grid)
            if t_out is not None:
                t_out = window_unpartition(t_out, window_size, pad_hw, grid)
        return maybe_pair(out, t_out)

    def _attend_grid(self, qkv: torch.Tensor, t_qkv: Optional[torch.Tensor]
                     ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Attention of projected (B, H, W, 3C) grids, before the output projection:
        (B, H, W, C), and its derivative along ``t_qkv`` (None without one)."""
        b, h, w, _ = qkv.shape
        q, k, v = self._split_heads(qkv)
        rel = (None, None)
        if self.use_rel_pos:
            rel = rel_pos_terms(q, self.rel_pos_h, self.rel_pos_w, (h, w), (h, w))
        out = self._merge_heads(self._attend(q, k, v, *rel), b, h, w)
        if t_qkv is None:
            return out, None
        tq, tk, tv = self._split_heads(t_qkv)
        t_rel = (None, None)
        if self.use_rel_pos:
            t_rel = rel_pos_terms(tq, self.rel_pos_h, self.rel_pos_w, (h, w), (h, w))
        # the bias is linear in q: its direction is the bias terms of tq
        t_out = softmax_attention_tangent(q * self.scale, k, v, tq * self.scale, tk, tv,
                                          bias=rel, t_bias=t_rel)
        return out, self._merge_heads(t_out, b, h, w)

    def _attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                rel_h: Optional[torch.Tensor], rel_w: Optional[torch.Tensor]) -> torch.Tensor:
        """``softmax(q k^T * scale + bias) v`` (N, L, C) by ``self.impl``; no bias without
        ``rel_h``, ``rel_w``."""
        if self.impl == 'sdpa_folded' and rel_h is not None:
            return folded_rel_pos_attention(q, k, v, rel_h, rel_w, self.scale)
        bias = None if rel_h is None else rel_pos_bias(rel_h, rel_w)
        if self.impl in ('sdpa', 'sdpa_folded'):  # no bias to fold: SDPA as it is
            return F.scaled_dot_product_attention(
                q.unsqueeze(0), k.unsqueeze(0), v.unsqueeze(0),
                attn_mask=None if bias is None else bias.unsqueeze(0),
                scale=self.scale).squeeze(0)
        attn = (q * self.scale) @ k.transpose(-2, -1)
        if bias is not None:
            attn = attn + bias
        return attn.softmax(dim=-1) @ v

    def _split_heads(self, qkv: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """(B, H, W, 3C) -> q, k, v, each (B * heads, H * W, C / heads)."""
        b, h, w, _ = qkv.shape
        qkv = qkv.reshape(b, h * w, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4)
        return qkv.reshape(3, b * self.num_heads, h * w, -1).unbind(0)

    def _merge_heads(self, out: torch.Tensor, b: int, h: int, w: int) -> torch.Tensor:
        """(B * heads, H * W, C / heads) -> (B, H, W, C)."""
        return out.view(b, self.num_heads, h, w, -1).permute(0, 2, 3, 1, 4).reshape(b, h, w, -1)
