"""BinaryDiceLoss against hand-computed values, and the mmseg DiceLoss trap it replaces."""
import math

import pytest
import torch
from mmseg.models.losses import DiceLoss

from dadf_mm.models import BinaryDiceLoss


def test_hand_computed_with_ignored_pixels_and_a_real_image():
    logits = torch.zeros(2, 1, 4, 4)  # p = 0.5 everywhere
    label = torch.zeros(2, 4, 4, dtype=torch.long)
    label[0, :2] = 1  # 8 forged of 16
    label[1, 0] = 255  # a real image, its first row ignored: 12 valid pixels
    # image 0: (2 * 4 + 1) / (8 + 8 + 1); image 1: (0 + 1) / (6 + 0 + 1)
    expected = ((1 - 9 / 17) + (1 - 1 / 7)) / 2
    assert BinaryDiceLoss()(logits, label).item() == pytest.approx(expected, rel=1e-6)
    assert BinaryDiceLoss(loss_weight=0.5)(logits, label).item() == pytest.approx(
        expected / 2, rel=1e-6)


def test_ignored_pixels_do_not_count_whatever_their_logits():
    label = torch.tensor([[[1, 0, 255, 255]]])
    a = torch.tensor([[[[3.0, -3.0, 50.0, -50.0]]]])
    b = torch.tensor([[[[3.0, -3.0, -50.0, 50.0]]]])
    loss = BinaryDiceLoss()
    assert loss(a, label).item() == loss(b, label).item()
    p1, p0 = 1 / (1 + math.exp(-3)), 1 / (1 + math.exp(3))
    expected = 1 - (2 * p1 + 1) / (p1 + p0 + 1 + 1)
    assert loss(a, label).item() == pytest.approx(expected, rel=1e-6)


def test_a_perfect_mask_scores_near_zero_and_the_inverse_near_one():
    label = torch.zeros(1, 8, 8, dtype=torch.long)
    label[0, 2:5, 3:6] = 1
    perfect = (label.float() * 2 - 1)[:, None] * 30
    assert BinaryDiceLoss()(perfect, label).item() < 1e-6
    assert BinaryDiceLoss()(-perfect, label).item() > 0.85


def test_mmseg_dice_on_one_channel_scores_the_pristine_class():
    """Why this loss exists: mmseg's DiceLoss one-hot encodes a one-channel target, so a
    perfect forged-class mask is scored as wrong and its inverse as right."""
    label = torch.zeros(1, 8, 8, dtype=torch.long)
    label[0, 2:5, 3:6] = 1
    perfect = (label.float() * 2 - 1)[:, None] * 30
    mmseg_dice = DiceLoss(use_sigmoid=True)
    assert mmseg_dice(perfect, label).item() > mmseg_dice(-perfect, label).item()
    assert BinaryDiceLoss()(perfect, label).item() < BinaryDiceLoss()(-perfect, label).item()


def test_loss_name_and_bad_smooth():
    assert BinaryDiceLoss().loss_name == 'loss_dice'
    assert BinaryDiceLoss(loss_name='loss_seg_dice').loss_name == 'loss_seg_dice'
    with pytest.raises(ValueError, match='smooth'):
        BinaryDiceLoss(smooth=0)
