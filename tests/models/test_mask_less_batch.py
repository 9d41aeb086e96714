"""A training batch whose fakes have no masks (every pixel the ignore index 255): ``L_seg``
is zero with a zero gradient, ``L_cls`` and ``L_rec`` are what they are without it, and
the optimizer step stays finite. The references are computed here, by formula, from the
model's own encoder features and logits."""
from unittest import mock

import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from mmseg.registry import MODELS

import dadf_mm  # noqa: F401
from tests.helpers.model_cases import activate, batch, tiny_dadf_cfg

IGNORE = 255


def build(checkpoint, rec_on='real'):
    torch.manual_seed(0)
    neck = dict(type='RGANeck', loss_rec=dict(samples=rec_on))
    model = MODELS.build(tiny_dadf_cfg(checkpoint, neck=neck))
    model.init_weights()
    return activate(model).train()


def mask_less(samples, which):
    for i in which:
        samples[i].gt_sem_seg.data.fill_(IGNORE)
        samples[i].set_metainfo(dict(has_mask=False))
    return samples


def record(model):
    """The encoder's ``(F, F_gau - F)`` and the head's ``(mask logits, fake logits)`` of
    the model's calls, as the losses see them."""
    seen = {}
    encode, head = model.encode, model.decode_head.forward

    def record_encode(*args, **kwargs):
        seen['encode'] = encode(*args, **kwargs)
        return seen['encode']

    def record_head(*args, **kwargs):
        seen['head'] = head(*args, **kwargs)
        return seen['head']

    return seen, mock.patch.multiple(model, encode=record_encode), \
        mock.patch.multiple(model.decode_head, forward=record_head)


def bce(logits, labels):
    """Binary cross-entropy by its formula, in float64."""
    p = torch.sigmoid(logits.detach().double())
    y = labels.double()
    return -(y * torch.log(p) + (1 - y) * torch.log(1 - p)).mean()


def expected_rec(diff, labels, rec_on):
    """``0.1`` times the mean over the selected samples of the mean ``|F_gau - F|``; zero
    when no sample is selected (no real image in the batch)."""
    per_sample = diff.detach().double().abs().flatten(1).mean(1)
    chosen = {'real': labels == 0, 'fake': labels == 1, 'all': labels >= 0}[rec_on]
    if not chosen.any():
        return torch.zeros((), dtype=torch.float64)
    return 0.1 * per_sample[chosen].mean()


def data_batch(samples):
    """What a dataloader gives ``train_step``: uint8 images and the samples."""
    gen = torch.Generator().manual_seed(3)
    size = samples[0].gt_sem_seg.data.shape[-2:]
    images = [torch.randint(0, 256, (3, *size), generator=gen, dtype=torch.uint8)
              for _ in samples]
    return dict(inputs=images, data_samples=samples)


def trainable(model):
    return {n: p for n, p in model.named_parameters() if p.requires_grad}


@pytest.mark.parametrize('rec_on', ['real', 'all'])
def test_a_batch_of_fakes_without_masks_trains_one_step(tiny_sam_checkpoint, rec_on):
    model = build(tiny_sam_checkpoint, rec_on)
    _, samples = batch(n=2, labels=(1, 1))
    data = data_batch(mask_less(samples, which=(0, 1)))
    before = {n: p.detach().clone() for n, p in trainable(model).items()}
    wrapper = OptimWrapper(torch.optim.AdamW(trainable(model).values(), lr=1e-3))
    seen, patch_encode, patch_head = record(model)
    with patch_encode, patch_head:
        log_vars = model.train_step(data, wrapper)  # mmseg's loss fails here without the fix
    labels = torch.ones(2, dtype=torch.long)
    _, cls_logits = seen['head']
    _, diff = seen['encode']
    assert log_vars['loss_seg'].item() == 0.0
    torch.testing.assert_close(log_vars['loss_cls'].double(), 0.1 * bce(cls_logits, labels))
    torch.testing.assert_close(log_vars['loss_rec'].double(), expected_rec(diff, labels, rec_on))
    assert torch.isfinite(log_vars['loss'])
    after = trainable(model)
    assert all(torch.isfinite(p).all() for p in after.values())
    moved = [n for n in after if not torch.equal(after[n], before[n])]
    assert any('cls_branch' in n for n in moved), 'L_cls did not train the classifier'


def test_a_batch_of_fakes_without_masks_gives_no_segmentation_gradient(tiny_sam_checkpoint):
    model = build(tiny_sam_checkpoint, rec_on='all')
    inputs, samples = batch(n=2, labels=(1, 1))
    losses = model.loss(inputs, mask_less(samples, which=(0, 1)))
    assert losses['loss_seg'].item() == 0.0
    params = list(trainable(model).values())
    grads = torch.autograd.grad(losses['loss_seg'], params, retain_graph=True,
                                allow_unused=True)
    reached = [g for g in grads if g is not None]
    assert reached, 'L_seg left the graph: distributed training would miss the gradients'
    assert all(torch.equal(g, torch.zeros_like(g)) for g in reached)
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    grads = torch.autograd.grad(total, params, allow_unused=True)
    assert all(torch.isfinite(g).all() for g in grads if g is not None)
    assert any(g is not None and g.abs().sum() > 0 for g in grads)


def test_a_mixed_batch_segments_the_masked_fake_only(tiny_sam_checkpoint):
    """One fake with its mask, one without: ``L_seg`` is the pixel BCE over the first
    image's pixels alone, computed from the logits by formula."""
    model = build(tiny_sam_checkpoint)
    inputs, samples = batch(n=2, labels=(1, 1))
    samples = mask_less(samples, which=(1, ))
    seen, patch_encode, patch_head = record(model)
    with patch_encode, patch_head:
        losses = model.loss(inputs, samples)
    mask_logits, cls_logits = seen['head']
    labels = torch.stack([s.gt_sem_seg.data[0] for s in samples])
    logits = F.interpolate(mask_logits.detach(), size=labels.shape[-2:], mode='bilinear',
                           align_corners=False)[:, 0]
    valid = labels != IGNORE
    assert valid[0].all() and not valid[1].any()
    torch.testing.assert_close(losses['loss_seg'].double(), bce(logits[valid], labels[valid]))
    torch.testing.assert_close(losses['loss_cls'].double(),
                               0.1 * bce(cls_logits, torch.ones(2, dtype=torch.long)))
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    assert all(torch.isfinite(p.grad).all() for p in trainable(model).values()
               if p.grad is not None)
