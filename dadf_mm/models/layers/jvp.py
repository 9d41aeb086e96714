"""Forward-mode directional derivatives (JVPs) of the encoder's layers, written out.

For RGA, DADF needs ``F(x + e) - F(x)`` with ``|e| ~ 1e-3``: a difference far below the
resolution of bfloat16 (2^-8 relative), so two low-precision passes return rounding
noise. Its first-order part ``J_F(x) e`` is a tensor of its own scale, computed here
alongside ``F(x)`` in one traversal: every layer maps ``(x, t)`` to ``(f(x), J_f(x) t)``.

The formulas are written with ordinary differentiable operations, not with
``torch.autograd.forward_ad``, because on torch 2.14 (CPU) the forward-AD path fails
for this encoder: the fused SDPA kernels have no forward derivative, softmax's forward
derivative cannot be differentiated again (training needs gradients of the tangent),
``torch.func.jvp`` refuses BatchNorm's running-statistics update, and non-reentrant
checkpointing cannot recompute dual tensors. Written out, the tangent is an ordinary
tensor: it trains, checkpoints, runs under autocast and compiles.

Batch statistics (BatchNorm in training) are held fixed along the tangent: the clean and
the noisy view of a batched pass are normalised with the same statistics, so their
difference carries no statistics term either. ReLU, piecewise linear, can pass the exact
difference over the noise step instead of its derivative (:func:`relu_difference`), which
keeps the tangent equal to the two-view difference where the views straddle a kink.

The tangent's dtype may be lower than the primal's (a float32 pass with a bfloat16
tangent): products and convolutions of the tangent run in the tangent's dtype, everything
that decides where a kink lies (the primal, the attention probabilities, the ReLU inputs,
the norms' statistics) in the primal's. The tangent is a tensor at its own scale, so
bfloat16 keeps its relative precision; the kinks stay where float32 puts them.
"""
from typing import Optional, Tuple, Union

import torch
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

Pair = Tuple[torch.Tensor, torch.Tensor]
#: A layer's output: the output alone, or with a tangent the output and its derivative
MaybePair = Union[torch.Tensor, Pair]


def as_pair(output: MaybePair) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """``(output, tangent)`` of a layer's output; the tangent ``None`` when there is none.

    Args:
        output (Tensor | tuple[Tensor, Tensor]): What a layer's ``forward`` returned.

    Returns:
        tuple[Tensor, Tensor | None]: The output and its derivative (or None).
    """
    return output if isinstance(output, tuple) else (output, None)


def maybe_pair(x: torch.Tensor, tangent: Optional[torch.Tensor]) -> MaybePair:
    """A layer's return value: ``x`` alone without a tangent, else ``(x, tangent)``.

    Args:
        x (Tensor): The output.
        tangent (Tensor, optional): Its derivative; None for none.

    Returns:
        Tensor | tuple[Tensor, Tensor]: ``x`` or ``(x, tangent)``.
    """
    return x if tangent is None else (x, tangent)


def linear_jvp(linear: nn.Linear, tangent: torch.Tensor) -> torch.Tensor:
    """Derivative of an affine ``nn.Linear`` (or a LoRA-augmented one): ``W t``, in the
    tangent's dtype (the weights are cast to it).

    Args:
        linear (nn.Linear): The layer; a :class:`~.lora.LoRALinear` adds its update.
        tangent (Tensor): The input direction (..., in_features).

    Returns:
        Tensor: The output direction (..., out_features).
    """
    # contiguous: without a bias, a strided 4-d input makes torch broadcast W per row block
    tangent = tangent.contiguous()
    dtype = tangent.dtype
    out = F.linear(tangent, linear.weight.to(dtype))
    lora_a, lora_b = getattr(linear, 'lora_A', None), getattr(linear, 'lora_B', None)
    if lora_a is not None and lora_b is not None:
        out = out + F.linear(F.linear(tangent, lora_a.to(dtype)), lora_b.to(dtype)) * linear.scaling
    return out


def conv_jvp(conv: nn.Conv2d, tangent: torch.Tensor) -> torch.Tensor:
    """Derivative of a convolution: the convolution without its bias, in the tangent's
    dtype (the weights are cast to it).

    Args:
        conv (nn.Conv2d): The convolution.
        tangent (Tensor): The input direction (B, C_in, H, W).

    Returns:
        Tensor: The output direction (B, C_out, H', W').
    """
    return conv._conv_forward(tangent, conv.weight.to(tangent.dtype), None)


def layer_norm_jvp(x: torch.Tensor, tangent: torch.Tensor, weight: Optional[torch.Tensor],
                   eps: float, dim: int = -1) -> torch.Tensor:
    """Derivative of a layer norm over ``dim``: ``w * r * (t_c - x_hat * mean(x_hat t_c))``
    with ``t_c = t - mean(t)``, ``r = 1 / sqrt(var(x) + eps)``, in float32 at least.

    Args:
        x (Tensor): The norm's input.
        tangent (Tensor): The input direction, shaped like ``x``.
        weight (Tensor, optional): The norm's scale ``w``; None for none.
        eps (float): The norm's epsilon.
        dim (int): The normalised dimension. Defaults to -1.

    Returns:
        Tensor: The output direction, shaped like ``x``, in float32 or float64.
    """
    dtype = torch.promote_types(x.dtype, torch.float32)
    x, tangent = x.to(dtype), tangent.to(dtype)
    centred = x - x.mean(dim, keepdim=True)
    rstd = torch.rsqrt(centred.square().mean(dim, keepdim=True) + eps)
    x_hat = centred * rstd
    t_c = tangent - tangent.mean(dim, keepdim=True)
    out = (t_c - x_hat * (x_hat * t_c).mean(dim, keepdim=True)) * rstd
    if weight is not None:
        shape = [1] * x.dim()
        shape[dim] = -1
        out = out * weight.to(dtype).view(shape)
    return out


def gelu_jvp(x: torch.Tensor, tangent: torch.Tensor, approximate: str = 'none'
             ) -> torch.Tensor:
    """Derivative of GELU at ``x`` along ``tangent``: ``gelu'(x) t``. GELU acts elementwise,
    so its Jacobian is diagonal and the JVP is its backward kernel applied to ``t``.

    Args:
        x (Tensor): The activation's input.
        tangent (Tensor): The input direction, shaped like ``x``.
        approximate (str): ``'none'`` or ``'tanh'``, as ``nn.GELU``. Defaults to 'none'.

    Returns:
        Tensor: The output direction, shaped like ``x``, in ``tangent``'s dtype.
    """
    return torch.ops.aten.gelu_backward(tangent, x.to(tangent.dtype), approximate=approximate)


def relu_difference(x: torch.Tensor, tangent: torch.Tensor, step: float) -> torch.Tensor:
    """``(relu(x + step * t) - relu(x)) / step``, in float32 at least.

    ReLU is piecewise linear: its derivative is exact except where ``x + step * t`` crosses
    the kink, and there the two views of RGA see a partial difference, which this is. A
    network with many ReLUs (the adapters) otherwise drifts from the two-view ``S`` by a
    few percent (``S`` correlation 0.99 instead of 1 on a ViT-B with active adapters).

    Args:
        x (Tensor): The ReLU's input.
        tangent (Tensor): The input direction ``t``, shaped like ``x``.
        step (float): The step along ``t`` (RGA's noise scale).

    Returns:
        Tensor: The difference quotient, shaped like ``x``, in ``tangent``'s dtype.
    """
    dtype = torch.promote_types(x.dtype, torch.float32)
    x, t = x.to(dtype), tangent.to(dtype)
    return ((torch.relu(x + step * t) - torch.relu(x)) / step).to(tangent.dtype)


def activation_jvp(act: nn.Module, x: torch.Tensor, tangent: torch.Tensor,
                   step: Optional[float] = None) -> torch.Tensor:
    """Derivative of an elementwise activation module at its input ``x``; with ``step``,
    ReLU gives the difference over that step (:func:`relu_difference`). Call it before an
    in-place activation overwrites ``x``: ``x`` itself is not kept for backward.

    Args:
        act (nn.Module): ``nn.GELU`` or ``nn.ReLU``.
        x (Tensor): The activation's input.
        tangent (Tensor): The input direction, shaped like ``x``.
        step (float, optional): For ReLU, the step of :func:`relu_difference`; None for
            the derivative. Defaults to None.

    Returns:
        Tensor: The output direction, shaped like ``x``.
    """
    if isinstance(act, nn.GELU):
        return gelu_jvp(x, tangent, act.approximate)
    if isinstance(act, nn.ReLU):
        if step:
            return relu_difference(x, tangent, step)
        return tangent * (x > 0).to(tangent.dtype)
    raise NotImplementedError(f'no written JVP for activation {type(act).__name__}; '
                              "noise mode 'jvp' supports GELU and ReLU")


def batch_norm_jvp(bn: _BatchNorm, x: torch.Tensor, tangent: torch.Tensor) -> Pair:
    """BatchNorm and its derivative with the normalising statistics held fixed.

    Args:
        bn (_BatchNorm): The norm layer (its running statistics update in training).
        x (Tensor): The input (B, C, ...).
        tangent (Tensor): The input direction, shaped like ``x``.

    Returns:
        tuple[Tensor, Tensor]: ``bn(x)`` and the output direction, both shaped like ``x``.
    """
    out = bn(x)
    dtype = torch.promote_types(x.dtype, torch.float32)
    if bn.training or bn.running_var is None:  # batch statistics (differentiable)
        var = x.to(dtype).var(dim=[0] + list(range(2, x.dim())), unbiased=False)
    else:
        var = bn.running_var.to(dtype)
    scale = torch.rsqrt(var + bn.eps)
    if bn.weight is not None:
        scale = scale * bn.weight.to(dtype)
    shape = [1, -1] + [1] * (x.dim() - 2)
    return out, tangent * scale.view(shape).to(tangent.dtype)


def conv_module_jvp(module: nn.Module, x: torch.Tensor, tangent: Optional[torch.Tensor],
                    step: Optional[float] = None) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
    """mmcv's ``ConvModule`` (conv -> BatchNorm -> ReLU, or a subset) and its derivative
    (``step``: see :func:`activation_jvp`); without a tangent the module's own forward.

    Args:
        module (nn.Module): An mmcv ``ConvModule`` of order conv, norm, act (BatchNorm
            and ReLU/GELU where present).
        x (Tensor): The input (B, C_in, H, W).
        tangent (Tensor, optional): The input direction, shaped like ``x``; None for none.
        step (float, optional): The ReLU difference step. Defaults to None.

    Returns:
        tuple[Tensor, Tensor | None]: The output and its direction, each
        (B, C_out, H', W') (the direction None without a tangent).
    """
    if tangent is None:
        return module(x), None
    if tuple(module.order) != ('conv', 'norm', 'act'):
        raise NotImplementedError(f'ConvModule order {module.order} has no written JVP')
    x, tangent = module.conv(x), conv_jvp(module.conv, tangent)
    if module.with_norm:
        norm = module.norm
        if not isinstance(norm, _BatchNorm):
            raise NotImplementedError(
                f"noise mode 'jvp' supports BatchNorm in the adapters, got "
                f'{type(norm).__name__}; use norm_cfg=dict(type="BN") or '
                'model.noise=dict(mode="batched")')
        x, tangent = batch_norm_jvp(norm, x, tangent)
    if module.with_activation:  # mmcv's ReLU works in place: the tangent first
        tangent = activation_jvp(module.activate, x, tangent, step)
        x = module.activate(x)
    return x, tangent


#: Largest (batch * heads) x L x L block of attention probabilities the JVP materialises at
#: once (2^26 elements, ~1 GiB of temporaries); larger ones are done in chunks of heads.
ATTENTION_JVP_CHUNK_ELEMENTS = 2**26



def softmax_attention_tangent(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                              tq: torch.Tensor, tk: torch.Tensor, tv: torch.Tensor,
                              max_elements: Optional[int] = None,
                              bias: Optional[Tuple[torch.Tensor, torch.Tensor]] = None,
                              t_bias: Optional[Tuple[torch.Tensor, torch.Tensor]] = None
                              ) -> torch.Tensor:
    """The derivative of ``softmax(q k^T + bias) v`` along ``(tq, tk, tv, t_bias)``,
    ``q, k, v`` and their directions (N, L, C), ``q`` and ``tq`` scaled.

    ``bias`` and ``t_bias`` are SAM's decomposed relative position terms ``(rel_h,
    rel_w)`` (:func:`~.attention.rel_pos_terms`) of the query and of its direction:
    ``bias[n, i, (j_h, j_w)] = rel_h[n, i, j_h] + rel_w[n, i, j_w]``, added to the
    materialised logits (cheaper here than folding them into the dot product, which
    widens it by ``k_h + k_w``). ``ds = tq k^T + q tk^T + t_bias`` (one product of
    concatenations); ``dP = P * ds - P * sum_j(P * ds)``; ``d out = dP v + P tv``. The
    logits and probabilities are in the primal's dtype, the products with the directions
    in the tangent's.

    The probabilities are materialised (the tangent needs them), so a large attention
    (global blocks at 1024 px) runs in chunks of at most ``max_elements`` probabilities;
    when gradients are needed each chunk is checkpointed, so that training keeps only
    ``q, k, v`` and their tangents, not the (N, L, L) tensors.

    Args:
        q (Tensor): The scaled queries (N, L, C).
        k (Tensor): The keys (N, L, C).
        v (Tensor): The values (N, L, C).
        tq (Tensor): The scaled query direction (N, L, C).
        tk (Tensor): The key direction (N, L, C).
        tv (Tensor): The value direction (N, L, C).
        max_elements (int, optional): Most probabilities per chunk; None for
            :data:`ATTENTION_JVP_CHUNK_ELEMENTS`. Defaults to None.
        bias (tuple[Tensor, Tensor], optional): ``(rel_h, rel_w)``, (N, q_h, q_w, k_h) and
            (N, q_h, q_w, k_w); None for no bias. Defaults to None.
        t_bias (tuple[Tensor, Tensor], optional): Their directions; None with ``bias``
            None. Defaults to None.

    Returns:
        Tensor: The output's direction (N, L, C).
    """
    n, length = q.shape[0], q.shape[1]
    limit = ATTENTION_JVP_CHUNK_ELEMENTS if max_elements is None else max_elements
    chunk = max(1, limit // (length * k.shape[1]))
    tensors = [q, k, v, tq, tk, tv, *(bias or (None, None)), *(t_bias or (None, None))]
    if chunk >= n:
        return _softmax_attention_tangent(*tensors)
    checkpoint = torch.is_grad_enabled() and any(
        t is not None and t.requires_grad for t in tensors)
    t_outs = []
    for start in range(0, n, chunk):
        part = [None if t is None else t[start:start + chunk] for t in tensors]
        if checkpoint:
            t_outs.append(cp.checkpoint(_softmax_attention_tangent, *part,
                                        use_reentrant=False))
        else:
            t_outs.append(_softmax_attention_tangent(*part))
    return torch.cat(t_outs)


def _logits(q: torch.Tensor, k: torch.Tensor, rel_h: Optional[torch.Tensor],
            rel_w: Optional[torch.Tensor]) -> torch.Tensor:
    """``q k^T`` (N, L, k_h * k_w) plus the decomposed bias of ``rel_h``, ``rel_w`` (the
    bias made once and accumulated into by the product)."""
    if rel_h is None:
        return q @ k.transpose(-2, -1)
    n, length = q.shape[:2]
    bias = rel_h.to(q.dtype)[..., :, None] + rel_w.to(q.dtype)[..., None, :]
    return torch.baddbmm(bias.reshape(n, length, -1), q, k.transpose(-2, -1))


def _softmax_attention_tangent(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
                               tq: torch.Tensor, tk: torch.Tensor, tv: torch.Tensor,
                               rel_h: Optional[torch.Tensor] = None,
                               rel_w: Optional[torch.Tensor] = None,
                               t_rel_h: Optional[torch.Tensor] = None,
                               t_rel_w: Optional[torch.Tensor] = None) -> torch.Tensor:
    # the probabilities in the primal's dtype, the tangent's products in the tangent's
    dtype = tq.dtype
    prob = _logits(q, k, rel_h, rel_w).softmax(dim=-1).to(dtype)
    q, k, v = q.to(dtype), k.to(dtype), v.to(dtype)
    t_logits = _logits(torch.cat([tq, q], -1), torch.cat([k, tk], -1), t_rel_h, t_rel_w)
    weighted = prob * t_logits.to(prob.dtype)
    t_prob = torch.addcmul(weighted, prob, weighted.sum(-1, keepdim=True), value=-1)
    return t_prob @ v + prob @ tv
