"""Does a fast DADF still see RGA's signal? ``S = |F_gau - F|`` against the float32 ``S``.

The noisy view differs from the clean one by ``noise_std`` (1e-3) of the input, below the
resolution of bfloat16; a low-precision path can return an ``S`` that is rounding noise.
The check: the Pearson correlation, over every element, of the fast path's ``S`` with the
``S`` of a float32 reference on the same input and the same noise (target >= 0.99).
"""
from typing import Dict, Optional, Sequence

import torch
from torch import Tensor, nn

REFERENCE_BACKBONE_KEYS = dict(attn_impl='reference', compute_dtype='float32',
                               grad_checkpointing=False, compile=False)
REFERENCE_MODEL_KEYS = dict(noise_pass='separate')


def pearson(a: Tensor, b: Tensor) -> float:
    """Pearson correlation of two tensors over all their elements (float64)."""
    a = a.detach().flatten().double()
    b = b.detach().flatten().double()
    a, b = a - a.mean(), b - b.mean()
    denom = a.norm() * b.norm()
    if denom == 0:
        return float('nan')
    return float(a @ b / denom)


@torch.no_grad()
def rga_signal_fidelity(model: nn.Module, reference: nn.Module, inputs: Tensor,
                        batch_img_metas: Optional[Sequence[dict]] = None) -> Dict[str, float]:
    """Compare ``S`` and ``F`` of ``model`` with those of ``reference`` (both DADF, eval).

    Both see the same noise: in eval mode it is seeded per image from ``batch_img_metas``
    (or drawn once from the global RNG state and replayed). Returns ``s_corr``
    (Pearson of the two ``S``), ``s_rel_err`` (relative L2 error of ``S``), ``f_rel_err``
    (of ``F``), the mean ``S`` of each and ``nonfinite``, the count of inf / NaN values in
    the fast path's ``F`` and ``S`` (float16 overflow shows here).
    """
    if batch_img_metas is None:
        batch_img_metas = [dict(img_path=f'benchmark_{i}') for i in range(inputs.shape[0])]
    was = model.training, reference.training
    model.eval()
    reference.eval()
    try:
        feat, diff = model.encode_difference(inputs, batch_img_metas)
        ref_feat, ref_diff = reference.encode_difference(inputs, batch_img_metas)
    finally:
        model.train(was[0])
        reference.train(was[1])
    if diff is None or ref_diff is None:
        raise ValueError('RGA fidelity needs models with an RGA neck (model.neck)')
    s, ref_s = diff.float().abs(), ref_diff.float().abs()
    nonfinite = int((~torch.isfinite(s)).sum() + (~torch.isfinite(feat.float())).sum())
    return dict(
        nonfinite=nonfinite,
        s_corr=pearson(s, ref_s),
        s_rel_err=float((s - ref_s).norm() / ref_s.norm().clamp(min=1e-30)),
        f_rel_err=float((feat.float() - ref_feat).norm() / ref_feat.norm().clamp(min=1e-30)),
        s_mean=float(s.mean()),
        ref_s_mean=float(ref_s.mean()))
