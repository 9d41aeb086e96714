"""RGA (eq. 5-7) against hand-computed values."""
import pytest
import torch

from dadf_mm.models.necks import RGANeck


def features():
    torch.manual_seed(0)
    feat = torch.randn(3, 8, 4, 4)
    # |F_gau - F| is 0.1 everywhere on sample 0, 0.2 on sample 1, 0.4 on sample 2.
    steps = torch.tensor([0.1, 0.2, 0.4]).view(3, 1, 1, 1)
    signs = torch.randint(0, 2, feat.shape).float() * 2 - 1
    return feat, feat + steps * signs


def test_identity_at_zero_init():
    feat, noisy = features()
    assert torch.equal(RGANeck(channels=8)(feat, noisy), feat)


def test_eq6_with_a_known_enhancer():
    feat, noisy = features()
    neck = RGANeck(channels=8, attn_act='spatial_softmax')
    with torch.no_grad():
        neck.enhancer.weight.copy_(2 * torch.eye(8).view(8, 8, 1, 1))
        neck.enhancer.bias.zero_()
    out = neck(feat, noisy)
    s = (noisy - feat).abs()
    alpha = torch.softmax((2 * s).flatten(2), -1).view_as(s) * 16
    torch.testing.assert_close(out, alpha * (2 * feat) + feat)
    # a uniform S gives a uniform attention of 1 per position
    torch.testing.assert_close(alpha[0], torch.ones_like(alpha[0]))


@pytest.mark.parametrize('act', ['channel_softmax', 'sigmoid'])
def test_other_attention_activations(act):
    logits = torch.randn(2, 8, 3, 3)
    attn = RGANeck(channels=8, attn_act=act).attention(logits)
    if act == 'channel_softmax':
        torch.testing.assert_close(attn.sum(1), torch.full((2, 3, 3), 8.0))
    else:
        torch.testing.assert_close(attn, logits.sigmoid())


@pytest.mark.parametrize('rec_on,expected', [
    ('real', (0.1 + 0.4) / 2),  # samples 0 and 2 are real
    ('fake', 0.2),
    ('all', (0.1 + 0.2 + 0.4) / 3),
])
def test_rec_loss_modes(rec_on, expected):
    feat, noisy = features()
    labels = torch.tensor([0, 1, 0])
    loss = RGANeck(channels=8, rec_on=rec_on, loss_weight=0.1).loss(feat, noisy, labels)
    torch.testing.assert_close(loss['loss_rec'], torch.tensor(0.1 * expected))


def test_rec_loss_gives_fake_samples_no_gradient_by_default():
    feat, noisy = features()
    feat.requires_grad_(True)
    noisy.requires_grad_(True)
    RGANeck(channels=8).loss(feat, noisy, torch.tensor([0, 1, 0]))['loss_rec'].backward()
    assert feat.grad[1].abs().sum() == 0 and noisy.grad[1].abs().sum() == 0
    assert feat.grad[0].abs().sum() > 0 and noisy.grad[2].abs().sum() > 0


def test_rec_loss_of_a_batch_without_selected_samples_is_zero():
    feat, noisy = features()
    loss = RGANeck(channels=8).loss(feat, noisy, torch.tensor([1, 1, 1]))['loss_rec']
    assert loss.item() == 0.0
