"""How much of the adapters' training signal comes from ``L_rec``.

``L_rec`` is O(sigma) in the paper's formulation (mean ``|F_gau - F|``), so its gradient
may be a negligible part of what moves the adapters. The share is measured as a ratio of
gradient norms over a set of parameters: ``|grad L_rec| / |grad L|`` with ``L`` the total
loss as mmengine sums it (every value whose key contains ``'loss'``). It takes two extra
backward passes, so the segmentor measures it every N steps only; ``torch.autograd.grad``
leaves the parameters' ``.grad`` untouched, so training is unchanged.
"""
from typing import Dict, Iterable, Optional

import torch
from torch import Tensor, nn


def rec_gradient_share(losses: Dict[str, Tensor], params: Iterable[nn.Parameter]
                       ) -> Optional[Tensor]:
    """``|grad L_rec| / |grad L|`` over ``params`` (L2 norms over all of them).

    Args:
        losses (dict): the segmentor's losses (with ``'loss_rec'``), still in the graph.
        params (iterable): the parameters to measure the gradients of (the adapters').

    Returns:
        Tensor | None: the share (0-dim), or None when nothing is measurable (no
        ``loss_rec``, no trainable parameter reached, gradients disabled).
    """
    rec = losses.get('loss_rec')
    params = [p for p in params if p.requires_grad]
    if rec is None or not rec.requires_grad or not params:
        return None
    total = sum(v for k, v in losses.items() if 'loss' in k and v.requires_grad)
    g_rec = torch.autograd.grad(rec, params, retain_graph=True, allow_unused=True)
    g_all = torch.autograd.grad(total, params, retain_graph=True, allow_unused=True)

    def norm(grads) -> Tensor:
        found = [g.detach().float().square().sum() for g in grads if g is not None]
        return torch.stack(found).sum().sqrt() if found else rec.new_zeros(())

    all_norm = norm(g_all)
    if all_norm == 0:
        return None
    return (norm(g_rec) / all_norm).detach()


def adapter_gradient_share(model: nn.Module, losses: Dict[str, Tensor]) -> Optional[Tensor]:
    """:func:`rec_gradient_share` over a segmentor's adapters (its whole backbone when it
    has none).

    Args:
        model (nn.Module): the segmentor (its ``backbone``).
        losses (dict): its losses of the step, still in the graph.

    Returns:
        Tensor | None: the share (0-dim), or None when nothing is measurable.
    """
    adapters = getattr(model.backbone, 'adapters', None)
    params = (adapters if adapters is not None else model.backbone).parameters()
    return rec_gradient_share(losses, params)
