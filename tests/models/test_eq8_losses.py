"""Eq. 8 as three registered losses named in the config: ``L_seg`` (the head's
``loss_decode``), ``L_cls`` (the head's ``loss_cls``, mmseg's sigmoid ``CrossEntropyLoss``)
and ``L_rec`` (the neck's ``loss_rec``, ``ReconstructionLoss``), against hand-computed
values; the keys they replace are refused with their new place."""
import math
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from dadf_mm.models.losses import ReconstructionLoss
from tests.helpers.model_cases import tiny_dadf_cfg
from tests.helpers.tool_runs import ROOT


def test_reconstruction_loss_is_the_per_element_mean_over_the_chosen_samples():
    # sample 0: |D| = 1 on 1 of 4 elements -> mean 0.25 (the L1 norm, a sum, would be 1)
    diff = torch.zeros(3, 1, 2, 2)
    diff[0, 0, 0, 0] = -1.0
    diff[1] = 2.0       # mean 2
    diff[2, 0, 1] = 0.5  # mean 0.25
    labels = torch.tensor([0, 1, 0])
    assert float(ReconstructionLoss()(diff, labels)) == pytest.approx(0.1 * (0.25 + 0.25) / 2)
    assert float(ReconstructionLoss(samples='fake', loss_weight=1.0)(diff, labels)) == 2.0
    assert float(ReconstructionLoss(samples='all', loss_weight=1.0)(diff, labels)) == \
        pytest.approx((0.25 + 2 + 0.25) / 3)
    sigma = ReconstructionLoss(units='sigma', loss_weight=1.0)
    assert float(sigma(diff, labels, noise_std=0.5)) == pytest.approx(0.25 / 0.5)
    # the L1 norm of eq. 7 as written, over a ViT-H feature map, is 2^20 times the mean
    feature_elements = 256 * 64 * 64
    assert feature_elements == 2 ** 20
    with pytest.raises(ValueError, match="samples must be one of"):
        ReconstructionLoss(samples='real_only')


def head_and_logits(loss_cls=None):
    cfg = dict(type='SAMMaskDecoderHead', in_channels=32, cls_hidden=8)
    if loss_cls is not None:
        cfg['loss_cls'] = loss_cls
    head = MODELS.build(cfg)
    samples = [SegDataSample(gt_sem_seg=PixelData(data=torch.zeros(1, 8, 8, dtype=torch.long)))
               for _ in range(4)]
    mask_logits = torch.randn(4, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    cls_logits = torch.tensor([2.0, -1.0, 0.5, -3.0])
    return head, samples, mask_logits, cls_logits


def test_classification_loss_is_the_weighted_binary_cross_entropy():
    head, samples, mask_logits, cls_logits = head_and_logits()
    labels = torch.tensor([1, 0, 0, 1])
    losses = head.loss_by_feat((mask_logits, cls_logits), samples, gt_labels=labels)
    by_hand = 0.0
    for x, y in zip(cls_logits.tolist(), labels.tolist()):
        p = 1 / (1 + math.exp(-x))
        by_hand -= (y * math.log(p) + (1 - y) * math.log(1 - p)) / 4
    assert float(losses['loss_cls']) == pytest.approx(0.1 * by_hand, rel=1e-6)
    # bit for bit the formula the head used before the loss was a registered module
    before = 0.1 * F.binary_cross_entropy_with_logits(cls_logits, labels.float())
    assert torch.equal(losses['loss_cls'], before)
    assert float(losses['acc_cls']) == 50.0


def test_classification_loss_takes_its_weight_and_name_from_the_config():
    head, samples, mask_logits, cls_logits = head_and_logits(dict(
        type='CrossEntropyLoss', use_sigmoid=True, loss_weight=0.5, loss_name='loss_fake'))
    labels = torch.tensor([1, 0, 0, 1])
    losses = head.loss_by_feat((mask_logits, cls_logits), samples, gt_labels=labels)
    assert 'loss_cls' not in losses
    torch.testing.assert_close(
        losses['loss_fake'], 0.5 * F.binary_cross_entropy_with_logits(cls_logits, labels.float()))


def test_the_paper_config_names_the_three_losses_of_eq8():
    model = Config.fromfile(osp.join(ROOT, 'configs', '_base_', 'models',
                                     'dadf_sam-vit-h.py')).model
    assert model.neck.loss_rec == dict(type='ReconstructionLoss', samples='real',
                                       units='feature', loss_weight=0.1, loss_name='loss_rec')
    assert model.decode_head.loss_cls == dict(type='CrossEntropyLoss', use_sigmoid=True,
                                              loss_weight=0.1, loss_name='loss_cls')
    assert model.decode_head.loss_decode.loss_name == 'loss_seg'
    assert model.noise == dict(std=1e-3, seed=0, mode='batched', generator='cpu')


@pytest.mark.parametrize('overrides,words', [
    (dict(noise_std=1e-2), ['model.noise_std', 'model.noise=dict(std=...)']),
    (dict(noise_pass='jvp'), ['model.noise_pass', "model.noise=dict(mode="]),
    (dict(noise_generator='device'), ['model.noise_generator', 'generator=']),
    (dict(rga_diagnostics_interval=50), ['model.rga_diagnostics_interval',
                                         "dict(type='RGADiagnosticsHook', interval=...)"]),
    (dict(rga_check_interval=5), ['model.rga_check_interval', 'signal_check_interval=...']),
    (dict(check_rga_precision=False), ['model.check_rga_precision', 'always refused']),
    (dict(pretrained='x.pth'), ['model.pretrained', 'model.sam_checkpoint']),
    (dict(noise=dict(sigma=1e-3)), ["model.noise has no key 'sigma'", 'std, seed, mode']),
    (dict(noise=dict(mode='twice')), ['model.noise.mode must be one of']),
    (dict(neck=dict(type='RGANeck', rec_on='all')),
     ['model.neck.rec_on', "loss_rec=dict(type='ReconstructionLoss', samples=...)"]),
    (dict(neck=dict(type='RGANeck', rec_units='sigma')), ['model.neck.rec_units', 'units=...']),
    (dict(decode_head=dict(type='SAMMaskDecoderHead', loss_cls_weight=0.1)),
     ['model.decode_head.loss_cls_weight', "loss_cls=dict(type='CrossEntropyLoss'"]),
])
def test_an_old_key_is_refused_in_one_line_naming_its_new_place(overrides, words):
    with pytest.raises(ValueError) as err:
        MODELS.build(tiny_dadf_cfg(**overrides))
    message = str(err.value)
    assert '\n' not in message
    for word in words:
        assert word in message, message


def test_an_unknown_key_is_refused_by_name():
    with pytest.raises(TypeError, match="model has no key 'noise_level'"):
        MODELS.build(tiny_dadf_cfg(noise_level=1))


def test_the_loss_modules_hold_no_state_so_earlier_checkpoints_load_unchanged():
    """``loss_rec`` and ``loss_cls`` are modules now, but hold no parameters or buffers:
    the state-dict keys are those of the parts (and the ``noise_step`` buffer) as before,
    so a checkpoint saved before loads strictly."""
    torch.manual_seed(0)
    model = MODELS.build(tiny_dadf_cfg())
    keys = set(model.state_dict())
    assert 'noise_step' in keys
    assert not [k for k in keys if '.loss_' in k or k.startswith('loss_')]
    assert {'neck.enhancer.weight', 'neck.enhancer.bias'} <= keys
    before = {k: v.clone() for k, v in model.state_dict().items()}
    assert not model.load_state_dict(before, strict=True).missing_keys
