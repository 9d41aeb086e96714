"""Does a fast DADF still see RGA's signal? ``S = |F_gau - F|`` against the float32 ``S``.

The noisy view differs from the clean one by ``noise.std`` (1e-3) of the input, below the
resolution of bfloat16; a low-precision path can return an ``S`` that is rounding noise.
The check: the Pearson correlation, over every element, of the fast path's ``S`` with the
``S`` of a reference on the same input and the same noise (target >= 0.99).

The reference must not share the fault it looks for. A float32 model checked against
itself cannot see TF32 (a global switch both would obey) or a defect of its own fast
path; :func:`float64_twin` makes a copy of the model in float64, with two encoder views
and SAM's explicit attention, which no float32 precision switch and no autocast touches.
"""
import copy
import logging
from typing import Dict, Optional, Sequence

import torch
from mmengine.logging import print_log
from torch import Tensor, nn

REFERENCE_BACKBONE_KEYS = dict(attn_impl='reference', compute_dtype='float32', tangent_dtype=None,
                               grad_checkpointing=False, compile=False)
REFERENCE_NOISE_KEYS = dict(mode='separate')


def pearson(a: Tensor, b: Tensor) -> float:
    """Pearson correlation of two tensors over all their elements (float64).

    Args:
        a (Tensor): The first tensor.
        b (Tensor): The second, with as many elements.

    Returns:
        float: The correlation; NaN when either tensor is constant.
    """
    a = a.detach().flatten().double()
    b = b.detach().flatten().double()
    a, b = a - a.mean(), b - b.mean()
    denom = a.norm() * b.norm()
    if denom == 0:
        return float('nan')
    return float(a @ b / denom)


def float64_twin(model: nn.Module) -> nn.Module:
    """A float64 copy of a DADF ``model`` for reference computations, in eval mode: two
    views in one batch, SAM's explicit attention, no checkpointing, eager, autocast off.

    Args:
        model (nn.Module): a DADF segmentor (its weights are copied, not shared).

    Returns:
        nn.Module: the copy (the memory of the model's parameters, twice over).
    """
    twin = copy.deepcopy(model).double().eval()
    for module in twin.modules():  # eager: compiled modules keep a compiled call
        if getattr(module, '_compiled_call_impl', None) is not None:
            module._compiled_call_impl = None
    twin.noise.mode = 'batched'
    backbone = twin.backbone
    if hasattr(backbone, 'compute_dtype'):
        backbone.compute_dtype = 'float32'  # autocast off; float64 tensors stay float64
        backbone.tangent_dtype = None
        backbone.set_attn_impl('reference')
        backbone.set_grad_checkpointing(False)
    return twin


@torch.no_grad()
def rga_signal_fidelity(model: nn.Module, reference: nn.Module, inputs: Tensor,
                        batch_img_metas: Optional[Sequence[dict]] = None) -> Dict[str, float]:
    """Compare ``S`` and ``F`` of ``model`` with those of ``reference`` (both DADF, eval).

    Both see the same noise: in eval mode it is seeded per image from ``batch_img_metas``.
    The reference gets ``inputs`` in its own dtype (float64 for :func:`float64_twin`).
    Returns ``s_corr`` (Pearson of the two ``S``), ``s_rel_err`` (relative L2 error of
    ``S``), ``f_rel_err`` (of ``F``), the mean ``S`` of each and ``nonfinite``, the count of
    inf / NaN values in the fast path's ``F`` and ``S`` (float16 overflow shows here).

    Args:
        model (nn.Module): The DADF segmentor under test, with an RGA neck.
        reference (nn.Module): The reference DADF, e.g. :func:`float64_twin` of ``model``.
        inputs (Tensor): Normalised images (B, 3, S, S).
        batch_img_metas (Sequence[dict], optional): Image metas that seed the noise;
            None for ``img_path='benchmark_<i>'``. Defaults to None.

    Returns:
        dict[str, float]: ``nonfinite`` (an int), ``s_corr``, ``s_rel_err``,
        ``f_rel_err``, ``s_mean`` and ``ref_s_mean``.
    """
    if batch_img_metas is None:
        batch_img_metas = [dict(img_path=f'benchmark_{i}') for i in range(inputs.shape[0])]
    was = model.training, reference.training
    model.eval()
    reference.eval()
    try:
        feat, diff = model.encode(inputs, batch_img_metas)
        ref_dtype = next(reference.parameters()).dtype
        ref_feat, ref_diff = reference.encode(inputs.to(ref_dtype), batch_img_metas)
    finally:
        model.train(was[0])
        reference.train(was[1])
    if diff is None or ref_diff is None:
        raise ValueError('RGA fidelity needs models with an RGA neck (model.neck)')
    s, ref_s = diff.double().abs(), ref_diff.double().abs()
    nonfinite = int((~torch.isfinite(s)).sum() + (~torch.isfinite(feat.float())).sum())
    return dict(
        nonfinite=nonfinite,
        s_corr=pearson(s, ref_s),
        s_rel_err=float((s - ref_s).norm() / ref_s.norm().clamp(min=1e-30)),
        f_rel_err=float((feat.double() - ref_feat.double()).norm()
                        / ref_feat.double().norm().clamp(min=1e-30)),
        s_mean=float(s.mean()),
        ref_s_mean=float(ref_s.mean()))


def rga_signal_check(model: nn.Module, inputs: Tensor, *, reference: Optional[nn.Module] = None,
                     threshold: float = 0.99) -> float:
    """Pearson correlation of ``model``'s ``S`` with the ``S`` of its :func:`float64_twin`
    on ``inputs``, with the same noise (eval mode, no gradients); a warning below
    ``threshold``.

    Adapters grow during training, and a reduced-precision ``S`` can lose its correlation
    where their ReLUs sit near the kink; TF32 or another float32 switch would degrade even
    a float32 model. A float64 reference sees both.

    Args:
        model (nn.Module): a DADF segmentor with an RGA neck.
        inputs (Tensor): a few normalised images (B, 3, S, S).
        reference (nn.Module, optional): the float64 twin, already holding ``model``'s
            weights; None makes one (a copy of the whole model). Defaults to None.
        threshold (float): the correlation below which a warning is logged.
            Defaults to 0.99.

    Returns:
        float: the correlation.
    """
    metas = [dict(img_path=f'rga_signal_check_{i}') for i in range(inputs.shape[0])]
    if reference is None:
        reference = float64_twin(model)
    corr = rga_signal_fidelity(model, reference, inputs, metas)['s_corr']
    if not corr >= threshold:
        dtype = getattr(model.backbone, 'compute_dtype', 'float32')
        print_log(f'RGA signal check: corr(S, S_fp64) = {corr:.4f} < {threshold} with '
                  f'noise mode {model.noise.mode!r}, compute_dtype={dtype!r}: RGA reads a '
                  'degraded S; see docs/performance.md', logger='current',
                  level=logging.WARNING)
    return corr
