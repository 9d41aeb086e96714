"""What one training step does to the numbers around it: TF32 off inside a float32 encoder
(and back on after), BatchNorm statistics updated once, fakes without a mask left out of
``L_seg``, weight decay only where zero is the prior."""
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmseg.registry import MODELS

import dadf_mm  # noqa: F401
from dadf_mm.models.utils import float32_precisions, set_float32_precisions
from tests.helpers.model_cases import batch, tiny_backbone_cfg, tiny_dadf_cfg


@pytest.fixture
def tf32_on():
    """The switches as torch 2.14 sets cuDNN convolutions by default, everywhere: 'tf32'
    (oneDNN's switches take 'tf32' too); restored after the test."""
    saved = float32_precisions()
    set_float32_precisions({key: 'tf32' for key in saved})
    yield {key: 'tf32' for key in saved}
    set_float32_precisions(saved)


def build(checkpoint, backbone=None, **overrides):
    torch.manual_seed(0)
    model = MODELS.build(tiny_dadf_cfg(checkpoint, backbone=tiny_backbone_cfg(**(backbone or {})),
                                       **overrides))
    model.init_weights()
    return model


def record_precisions(model):
    """Switch settings seen by the first adapter and the last block: in forward (also the
    recomputation of a checkpointed block) and in backward."""
    seen = {'forward': [], 'backward': [], 'adapter_calls': 0}

    def forward_hook(module, args, output):
        seen['forward'].append(float32_precisions())
        seen['adapter_calls'] += module is model.backbone.adapters[0]
        out = output[0] if isinstance(output, tuple) else output
        if out.requires_grad:
            out.register_hook(lambda grad: seen['backward'].append(float32_precisions()))

    model.backbone.adapters[0].register_forward_hook(forward_hook)
    model.backbone.blocks[-1].register_forward_hook(forward_hook)
    return seen


@pytest.mark.parametrize('noise_pass', ['batched', 'jvp'])
@pytest.mark.parametrize('checkpointing', [False, True])
def test_float32_encoder_runs_without_tf32_and_restores_it(tiny_sam_checkpoint, tf32_on,
                                                           noise_pass, checkpointing):
    model = build(tiny_sam_checkpoint, backbone=dict(grad_checkpointing=checkpointing),
                  noise=dict(mode=noise_pass)).train()
    seen = record_precisions(model)
    inputs, samples = batch()
    losses = model.loss(inputs, samples)
    assert float32_precisions() == tf32_on  # restored after the forward pass
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    assert float32_precisions() == tf32_on  # and after the backward pass
    ieee = {key: 'ieee' for key in tf32_on}
    # with checkpointing the recomputation in backward runs the first adapter again
    assert seen['adapter_calls'] == (2 if checkpointing else 1)
    assert seen['backward'], 'no gradient reached the encoder'
    assert all(s == ieee for s in seen['forward'] + seen['backward'])


def test_reduced_precision_encoder_keeps_the_users_switches(tiny_sam_checkpoint, tf32_on):
    model = build(tiny_sam_checkpoint, backbone=dict(compute_dtype='bfloat16'),
                  noise=dict(mode='jvp')).train()
    seen = record_precisions(model)
    inputs, samples = batch()
    sum(v for k, v in model.loss(inputs, samples).items() if k.startswith('loss')).backward()
    assert all(s == tf32_on for s in seen['forward'] + seen['backward'])
    assert float32_precisions() == tf32_on


def test_tf32_is_restored_when_the_forward_pass_fails(tiny_sam_checkpoint, tf32_on):
    model = build(tiny_sam_checkpoint).eval()
    with pytest.raises(RuntimeError):
        model.backbone(torch.randn(1, 3, 8, 8))  # not the configured size
    assert float32_precisions() == tf32_on


def batch_norms(model):
    return [m for m in model.backbone.adapters.modules()
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]


@pytest.mark.parametrize('noise_pass,checkpointing', [
    ('batched', False), ('batched', True), ('separate', False), ('separate', True),
    ('jvp', False), ('jvp', True)])
def test_batch_norm_statistics_advance_once_per_step(tiny_sam_checkpoint, noise_pass,
                                                     checkpointing):
    model = build(tiny_sam_checkpoint, backbone=dict(grad_checkpointing=checkpointing),
                  noise=dict(mode=noise_pass)).train()
    inputs, samples = batch()
    norms = batch_norms(model)
    assert norms
    means = []
    for step in range(1, 3):
        loss = sum(v for k, v in model.loss(inputs, samples).items() if k.startswith('loss'))
        loss.backward()
        assert all(int(bn.num_batches_tracked) == step for bn in norms)
        means.append(norms[0].running_mean.clone())
    # the running statistics are those of one update by the clean batch (with the views in
    # one batch: by the 2B images), not of a second update by the recomputation
    assert not torch.equal(means[0], torch.zeros_like(means[0]))


def test_checkpointing_leaves_the_same_running_statistics(tiny_sam_checkpoint):
    stats = []
    for checkpointing in (False, True):
        model = build(tiny_sam_checkpoint, backbone=dict(grad_checkpointing=checkpointing))
        inputs, samples = batch()
        model.train()
        sum(v for k, v in model.loss(inputs, samples).items() if k.startswith('loss')).backward()
        stats.append(torch.cat([torch.cat([bn.running_mean, bn.running_var])
                                for bn in batch_norms(model)]))
    torch.testing.assert_close(stats[1], stats[0], rtol=1e-5, atol=1e-6)


def test_a_fake_without_mask_trains_detection_but_not_segmentation(tiny_sam_checkpoint):
    """A fake whose mask is unknown (ignore_index everywhere, as LoadForgeryAnnotations
    fills it) gives no ``L_seg`` gradient; its label still reaches ``L_cls``. (Eval mode:
    in training, BatchNorm's batch statistics let every image reach every loss.)"""
    inputs, samples = batch(n=2, labels=(1, 1))
    samples[1].gt_sem_seg.data.fill_(255)
    samples[1].set_metainfo(dict(has_mask=False))
    model = build(tiny_sam_checkpoint).eval()
    inputs = inputs.clone().requires_grad_(True)
    losses = model.loss(inputs, samples)
    grad_seg, = torch.autograd.grad(losses['loss_seg'], inputs, retain_graph=True)
    grad_cls, = torch.autograd.grad(losses['loss_cls'], inputs)
    assert grad_seg[1].abs().max() == 0
    assert grad_seg[0].abs().sum() > 0
    assert grad_cls[1].abs().sum() > 0
    # L_seg is the first sample's alone; L_cls is the mean BCE of both labels (1, 1)
    alone = model.loss(inputs[:1], samples[:1])
    torch.testing.assert_close(losses['loss_seg'], alone['loss_seg'])
    _, cls_logits = model._forward(inputs, samples)
    expected = 0.1 * torch.nn.functional.softplus(-cls_logits).mean()
    torch.testing.assert_close(losses['loss_cls'], expected)


def test_load_forgery_annotations_marks_an_unknown_fake_mask_as_ignored():
    import numpy as np

    from dadf_mm.datasets.transforms import LoadForgeryAnnotations
    load = LoadForgeryAnnotations()
    img = np.zeros((6, 7, 3), np.uint8)
    fake = load(dict(img=img, img_path='fake.png', seg_map_path=None, gt_label=1))
    real = load(dict(img=img, img_path='real.png', seg_map_path=None, gt_label=0))
    assert (fake['gt_seg_map'] == 255).all() and fake['gt_seg_map'].shape == (6, 7)
    assert (real['gt_seg_map'] == 0).all()


def paper_optimizer(model):
    cfg = Config.fromfile('configs/dadf/dadf_vit-h_ffpp-hq.py')
    return build_optim_wrapper(model, cfg.optim_wrapper)


def test_weight_decay_leaves_identity_and_flat_parameters_alone(tiny_sam_checkpoint):
    """With gradients of zero, AdamW moves a parameter only by its weight decay: after N
    steps the identity skips, the task head, SAM's pretrained mask decoder (its tokens
    included) and no-mask embedding, norms and biases are where they started, while a
    decayed weight (new, randomly initialised) has shrunk by (1 - lr * wd)^N."""
    model = build(tiny_sam_checkpoint)
    with torch.no_grad():
        model.backbone.adapters[0].output_proj.weight.fill_(1.0)
    wrapper = paper_optimizer(model)
    lr, wd = 2e-4, 0.01
    kept = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    steps = 50
    for _ in range(steps):
        for p in model.parameters():
            if p.requires_grad:
                p.grad = torch.zeros_like(p)
        wrapper.step()
    params = dict(model.named_parameters())
    pretrained = ('decode_head.mask_decoder.', 'decode_head.no_mask_embed.')
    undecayed = [n for n in kept if '.skip.' in n or 'task_head.' in n or params[n].ndim == 1
                 or n.startswith(pretrained)]
    assert any('.skip.' in n for n in undecayed) and any('task_head' in n for n in undecayed)
    assert any('mask_decoder.iou_token' in n for n in undecayed)
    assert any('mask_decoder.transformer' in n and n.endswith('weight') and params[n].ndim == 2
               for n in undecayed)
    assert any('bn.weight' in n for n in undecayed) and any('bias' in n for n in undecayed)
    for name in undecayed:
        assert torch.equal(params[name], kept[name]), name
    decayed = model.backbone.adapters[0].output_proj.weight
    torch.testing.assert_close(decayed, torch.full_like(decayed, (1 - lr * wd) ** steps))


@pytest.mark.parametrize('noise_pass', ['batched', 'jvp'])
def test_diagnostics_with_checkpointing_leave_the_step_unchanged(tiny_sam_checkpoint,
                                                                 noise_pass):
    """The diagnostics' gradient share backpropagates twice more through the kept graph,
    so checkpointed blocks are recomputed three times in one step: the gradients and the
    BatchNorm statistics are those of the step without diagnostics."""
    from types import SimpleNamespace

    from mmengine.logging import MessageHub

    from dadf_mm.engine import RGADiagnosticsHook
    results = []
    for grad_share in (False, True):
        model = build(tiny_sam_checkpoint, backbone=dict(grad_checkpointing=True),
                      noise=dict(mode=noise_pass)).train()
        hook = RGADiagnosticsHook(interval=1 if grad_share else 0, grad_share=grad_share)
        hub = MessageHub(name=f'diagnostics_checkpointing_{noise_pass}_{grad_share}')
        runner = SimpleNamespace(model=model, iter=0, message_hub=hub)
        inputs, samples = batch()
        hook.before_train_iter(runner, 0)
        losses = model(inputs, samples, mode='loss')
        sum(v for k, v in losses.items() if k.startswith('loss')).backward()
        hook.after_train_iter(runner, 0)
        assert ('train/rga_rec_grad_share' in hub.log_scalars) == grad_share
        grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
        stats = [(bn.running_mean.clone(), int(bn.num_batches_tracked))
                 for bn in batch_norms(model)]
        results.append((grads, stats))
    (grads0, stats0), (grads1, stats1) = results
    assert grads0.keys() == grads1.keys()
    for name in grads0:
        assert torch.equal(grads0[name], grads1[name]), name
    for (mean0, n0), (mean1, n1) in zip(stats0, stats1):
        assert n0 == n1 == 1 and torch.equal(mean0, mean1)
