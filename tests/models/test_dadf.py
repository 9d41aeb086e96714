"""The DADF segmentor: one training step, what trains, prediction, mmseg's inference API."""
import numpy as np
import pytest
import torch
from mmseg.registry import MODELS

import dadf_mm  # noqa: F401
from tests.helpers.model_cases import batch, tiny_dadf_cfg
from tests.helpers.sam_reference import TINY_SIZE

SAM_PARTS = ('backbone.patch_embed', 'backbone.pos_embed', 'backbone.blocks', 'backbone.neck',
             'decode_head.no_mask_embed')
TRAINED_PARTS = ('backbone.adapters', 'backbone.task_head', 'neck.enhancer',
                 'decode_head.mask_decoder', 'decode_head.cls_branch')


def build(checkpoint, **overrides):
    model = MODELS.build(tiny_dadf_cfg(checkpoint, **overrides))
    model.init_weights()
    return model


def test_losses_and_exactly_the_trainable_modules_get_gradients(tiny_sam_checkpoint):
    model = build(tiny_sam_checkpoint).train()
    inputs, samples = batch()
    losses = model.loss(inputs, samples)
    assert {'loss_seg', 'loss_rec', 'loss_cls'} <= set(losses)
    total = sum(v for k, v in losses.items() if k.startswith('loss'))
    total.backward()
    with_grad = {n for n, p in model.named_parameters() if p.grad is not None}
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert with_grad == trainable
    assert all(n.startswith(TRAINED_PARTS) for n in trainable)
    for part in TRAINED_PARTS:
        assert any(n.startswith(part) for n in trainable), part
    assert not any(n.startswith(SAM_PARTS) for n in trainable)
    # the zero-initialised adapter output and RGA enhancer receive a real gradient
    assert model.backbone.adapters[0].output_proj.weight.grad.abs().sum() > 0
    assert model.neck.enhancer.weight.grad.abs().sum() > 0


def test_an_optimizer_step_leaves_sam_unchanged(tiny_sam_checkpoint):
    model = build(tiny_sam_checkpoint).train()
    frozen = {n: p.detach().clone() for n, p in model.named_parameters() if not p.requires_grad}
    trained = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    optim = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    inputs, samples = batch()
    sum(v for k, v in model.loss(inputs, samples).items() if k.startswith('loss')).backward()
    optim.step()
    for n, p in model.named_parameters():
        if n in frozen:
            assert torch.equal(p, frozen[n]), n
    assert any(not torch.equal(p, trained[n]) for n, p in model.named_parameters()
               if n in trained)


def test_noisy_view_is_one_batched_pass(tiny_sam_checkpoint, monkeypatch):
    model = build(tiny_sam_checkpoint).train()
    seen = []
    forward = model.backbone.forward
    monkeypatch.setattr(model.backbone, 'forward', lambda x: seen.append(x.shape[0]) or forward(x))
    inputs, samples = batch()
    model.loss(inputs, samples)
    assert seen == [4]


def test_without_rga_there_is_no_noisy_pass(tiny_sam_checkpoint, monkeypatch):
    model = build(tiny_sam_checkpoint, neck=None).train()
    seen = []
    forward = model.backbone.forward
    monkeypatch.setattr(model.backbone, 'forward', lambda x: seen.append(x.shape[0]) or forward(x))
    inputs, samples = batch()
    losses = model.loss(inputs, samples)
    assert seen == [2] and 'loss_rec' not in losses


def test_prediction_fields_and_independence_of_the_batch(tiny_sam_checkpoint):
    model = build(tiny_sam_checkpoint).eval()
    inputs, samples = batch()
    with torch.no_grad():
        both = model.predict(inputs, samples)
        first = model.predict(inputs[:1], samples[:1])
        again = model.predict(inputs, samples)
    for r in both:
        assert r.pred_sem_seg.data.dtype == torch.long
        assert r.pred_sem_seg.data.shape == (1, TINY_SIZE, TINY_SIZE)
        assert set(r.pred_sem_seg.data.unique().tolist()) <= {0, 1}
        assert r.seg_logits.data.shape == (1, TINY_SIZE, TINY_SIZE)
        assert 0.0 <= float(r.pred_score) <= 1.0
    # noise is seeded per image: image 0 alone equals image 0 in a batch, and reruns agree
    torch.testing.assert_close(first[0].seg_logits.data, both[0].seg_logits.data)
    torch.testing.assert_close(first[0].pred_score, both[0].pred_score)
    assert torch.equal(again[1].seg_logits.data, both[1].seg_logits.data)


def test_without_classification_branch_scores_come_from_the_mask(tiny_sam_checkpoint):
    model = build(tiny_sam_checkpoint,
                  decode_head=dict(type='SAMMaskDecoderHead', with_cls=False)).eval()
    inputs, samples = batch()
    with torch.no_grad():
        losses = model.loss(inputs, samples)
        results = model.predict(inputs, samples)
    assert 'loss_cls' not in losses
    logits = model._forward(inputs, samples)[0]
    expected = model.mask_score(logits)
    torch.testing.assert_close(torch.stack([r.pred_score for r in results]), expected)


def test_paper_loss_weights(tiny_sam_checkpoint):
    model = build(tiny_sam_checkpoint)
    assert model.neck.loss_rec.loss_weight == 0.1
    assert model.decode_head.loss_cls.loss_weight == 0.1
    assert model.noise.std == 1e-3


def test_mmseg_inference_api(tiny_sam_checkpoint, tmp_path):
    from mmengine.config import Config
    from mmseg.apis import inference_model, init_model
    cfg = Config(dict(
        model=tiny_dadf_cfg(tiny_sam_checkpoint),
        test_pipeline=[dict(type='LoadImageFromFile'),
                       dict(type='Resize', scale=(TINY_SIZE, TINY_SIZE), keep_ratio=False),
                       dict(type='PackSegInputs')]))
    model = init_model(cfg, checkpoint=None, device='cpu')
    model.init_weights()
    img = np.random.RandomState(0).randint(0, 255, (96, 80, 3), dtype=np.uint8)
    result = inference_model(model, img)
    assert result.pred_sem_seg.data.shape == (1, 96, 80)
    assert 0.0 <= float(result.pred_score) <= 1.0


def test_slide_inference_is_refused():
    with pytest.raises(ValueError, match='whole'):
        MODELS.build(tiny_dadf_cfg(test_cfg=dict(mode='slide', crop_size=(64, 64),
                                                 stride=(32, 32))))


def test_training_noise_is_seeded_by_image_and_step_and_resumes(tiny_sam_checkpoint):
    model = build(tiny_sam_checkpoint).train()
    inputs, samples = batch()
    metas = [s.metainfo for s in samples]
    first = model.unit_noise(inputs, metas)
    second = model.unit_noise(inputs, metas)
    assert not torch.equal(first, second)  # a new draw every step
    assert int(model.noise_step) == 2 and 'noise_step' in model.state_dict()
    resumed = build(tiny_sam_checkpoint).train()
    resumed.load_state_dict(model.state_dict())
    resumed.noise_step.fill_(1)
    torch.testing.assert_close(resumed.unit_noise(inputs, metas), second, rtol=0, atol=0)
    # per image: image 1 alone at step 1 draws what it drew in the batch
    resumed.noise_step.fill_(1)
    torch.testing.assert_close(resumed.unit_noise(inputs[1:], metas[1:])[0], second[1],
                               rtol=0, atol=0)
