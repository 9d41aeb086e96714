"""The segmentor's outputs on a fixed seed equal the values recorded before its noisy-pass
dispatch was rewritten (one ``DADF.encode`` for training, prediction and the checks).

``data/dadf_outputs_seed0.npz`` was written by this file's ``record()`` (run it as
``python -m tests.models.test_recorded_prediction``) on the code before the rewrite. On the
machine that recorded it, the rewritten code gives the same losses and predictions bit
for bit, and the adapters' gradient to float32 rounding (the difference ``F_gau - F`` is
now one node of the graph, not two, so its gradient is summed in another order). Float32
results also depend on the CPU's matrix kernels (AVX2, AVX-512, AMX paths), and RGA
amplifies their rounding: ``S = F_gau - F`` cancels about three digits, and the scale-free
variant divides by a norm of ``S``. So each output is compared with the file within a
tolerance measured in the same run: four times this machine's float32 error on that
output (against the same model in float64) plus four float32 ulps of its scale; the
recorded values carry an error of the same order from the recording machine. A change
of the computation moves an output far beyond its rounding. In the same run on the same
machine, :func:`test_encode_gives_the_difference_of_the_two_views_bit_for_bit` compares the new
dispatch with the two views computed by hand, bit for bit.
"""
import os.path as osp
from typing import Dict

import numpy as np
import pytest
import torch
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

import dadf_mm  # noqa: F401
from tests.helpers.model_cases import activate, batch, tiny_dadf_cfg
from tests.helpers.sam_reference import (
    TINY_ARCH,
    TINY_SIZE,
    TINY_WINDOW,
    build_reference_sam,
    save_state_dict,
)

RECORD = osp.join(osp.dirname(__file__), 'data', 'dadf_outputs_seed0.npz')
CASES = {
    'batched': dict(noise=dict(mode='batched')),
    'separate': dict(noise=dict(mode='separate')),
    'jvp': dict(noise=dict(mode='jvp')),
    'batched_sf': dict(noise=dict(mode='batched'), neck=dict(type='RGANeck', s_norm='image')),
    'no_rga': dict(neck=None),
}


def build_case(checkpoint: str, **overrides) -> torch.nn.Module:
    """A tiny DADF on the reference SAM, its zero-initialised parts moved off zero."""
    torch.manual_seed(0)
    model = MODELS.build(tiny_dadf_cfg(checkpoint, **overrides))
    model.init_weights()
    return activate(model, std=0.05)


def outputs(model: torch.nn.Module, dtype: torch.dtype = torch.float32
            ) -> Dict[str, np.ndarray]:
    """Training losses (and their gradient on the adapters) and predictions of one batch
    (inputs in ``dtype``, the model's)."""
    inputs, samples = batch()
    inputs = inputs.to(dtype)
    model.train()
    losses = model.loss(inputs, samples)
    out = {k: v.detach().numpy() for k, v in losses.items() if k.startswith('loss')}
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    grads = [p.grad.flatten() for n, p in model.named_parameters()
             if p.grad is not None and 'adapters' in n]
    if grads:  # a fixed sample of the gradient and its norm
        grad = torch.cat(grads)
        out['adapter_grad'] = grad[::97].numpy()
        out['adapter_grad_norm'] = grad.norm().numpy()
    model.eval()
    with torch.no_grad():
        preds = model.predict(inputs, [SegDataSample(metainfo=s.metainfo) for s in samples])
    out['seg_logits'] = torch.stack([p.seg_logits.data for p in preds])[..., ::4, ::4].numpy()
    out['pred_score'] = torch.stack([p.pred_score for p in preds]).numpy()
    return out


def record() -> None:
    import tempfile
    sam = build_reference_sam(**TINY_ARCH, img_size=TINY_SIZE, window_size=TINY_WINDOW)
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = save_state_dict(sam, osp.join(tmp, 'sam_tiny.pth'))
        arrays = {f'{case}/{k}': v for case, overrides in CASES.items()
                  for k, v in outputs(build_case(ckpt, **overrides)).items()}
    np.savez_compressed(RECORD, **arrays)


@pytest.mark.parametrize('case', sorted(CASES))
def test_outputs_equal_the_values_recorded_before_the_rewrite(case, tiny_sam_checkpoint):
    recorded = np.load(RECORD)
    now = outputs(build_case(tiny_sam_checkpoint, **CASES[case]))
    exact = outputs(build_case(tiny_sam_checkpoint, **CASES[case]).double(), torch.float64)
    keys = {k.split('/', 1)[1] for k in recorded.files if k.startswith(case + '/')}
    assert keys == set(now) and {'loss_seg', 'seg_logits', 'pred_score'} <= keys
    for key in sorted(keys):
        rounding = float(np.abs(now[key] - exact[key]).max())  # this machine's float32 error
        ulps = float(np.finfo(np.float32).eps * np.abs(exact[key]).max())
        diff = float(np.abs(now[key] - recorded[f'{case}/{key}']).max())
        assert diff <= 4 * rounding + 4 * ulps, (
            f'{key}: {diff:.3g} from the recorded values, float32 rounding here {rounding:.3g}')


if __name__ == '__main__':
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    record()
    print(f'wrote {RECORD}')


@pytest.mark.parametrize('noise_pass', ['batched', 'separate'])
def test_encode_gives_the_difference_of_the_two_views_bit_for_bit(noise_pass,
                                                                   tiny_sam_checkpoint):
    """``encode`` and a prediction equal the two views computed by hand from the model's
    own modules, bit for bit: clean and noisy view through the encoder, the difference,
    RGA, the decoder."""
    model = build_case(tiny_sam_checkpoint, noise=dict(mode=noise_pass)).eval()
    inputs, samples = batch()
    metas = [s.metainfo for s in samples]
    with torch.no_grad():
        noisy = inputs + model.noise.std * model.unit_noise(inputs, metas)
        if noise_pass == 'batched':
            feat, feat_noisy = model.backbone(torch.cat([inputs, noisy]))[-1].chunk(2)
        else:
            feat, feat_noisy = model.backbone(inputs)[-1], model.backbone(noisy)[-1]
        _, cls_logits = model.decode_head([model.neck(feat, feat_noisy - feat)])
        got_feat, got_diff = model.encode(inputs, metas)
        preds = model.predict(inputs, [SegDataSample(metainfo=m) for m in metas])
    assert torch.equal(got_feat, feat) and torch.equal(got_diff, feat_noisy - feat)
    assert torch.equal(torch.stack([p.pred_score for p in preds]), cls_logits.sigmoid())
