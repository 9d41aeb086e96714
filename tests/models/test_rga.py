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
    assert torch.equal(RGANeck(channels=8)(feat, noisy - feat), feat)


def test_eq6_with_a_known_enhancer():
    feat, noisy = features()
    neck = RGANeck(channels=8, attn_act='spatial_softmax')
    with torch.no_grad():
        neck.enhancer.weight.copy_(2 * torch.eye(8).view(8, 8, 1, 1))
        neck.enhancer.bias.zero_()
    out = neck(feat, noisy - feat)
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


@pytest.mark.parametrize('samples,expected', [
    ('real', (0.1 + 0.4) / 2),  # samples 0 and 2 are real
    ('fake', 0.2),
    ('all', (0.1 + 0.2 + 0.4) / 3),
])
def test_rec_loss_modes(samples, expected):
    feat, noisy = features()
    labels = torch.tensor([0, 1, 0])
    neck = RGANeck(channels=8, loss_rec=dict(samples=samples, loss_weight=0.1))
    loss = neck.loss(feat, noisy - feat, labels)
    torch.testing.assert_close(loss['loss_rec'], torch.tensor(0.1 * expected))


def test_rec_loss_gives_fake_samples_no_gradient_by_default():
    feat, noisy = features()
    feat.requires_grad_(True)
    noisy.requires_grad_(True)
    RGANeck(channels=8).loss(feat, noisy - feat, torch.tensor([0, 1, 0]))['loss_rec'].backward()
    assert feat.grad[1].abs().sum() == 0 and noisy.grad[1].abs().sum() == 0
    assert feat.grad[0].abs().sum() > 0 and noisy.grad[2].abs().sum() > 0


def test_rec_loss_of_a_batch_without_selected_samples_is_zero():
    feat, noisy = features()
    loss = RGANeck(channels=8).loss(feat, noisy - feat, torch.tensor([1, 1, 1]))['loss_rec']
    assert loss.item() == 0.0


# the scale of S, and the scale-free formulation ---------------------------------------------
def encoder_views(checkpoint, noise_std, noise_pass='batched'):
    """F and F_gau - F of the tiny DADF encoder on two images (eval, seeded noise)."""
    from mmseg.registry import MODELS

    from tests.helpers.model_cases import batch, tiny_dadf_cfg
    torch.manual_seed(0)
    model = MODELS.build(tiny_dadf_cfg(checkpoint, noise=dict(std=noise_std, mode=noise_pass)))
    model.init_weights()
    inputs, samples = batch()
    with torch.no_grad():
        return model.eval().encode(inputs, [s.metainfo for s in samples])


def random_enhancers(neck, seed=0):
    """phi (and phi_S) as a trained 1x1 convolution might be: N(0, 1/C) weights."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for conv in (neck.enhancer, neck.s_enhancer):
            if conv is not None:
                c = conv.weight.shape[1]
                conv.weight.copy_(torch.randn(conv.weight.shape, generator=gen) / c ** 0.5)
                conv.bias.zero_()
    return neck


def test_paper_attention_is_uniform_to_order_sigma_and_scale_free_is_not(tiny_sam_checkpoint):
    """With one enhancer for S and F, the spatial softmax of phi(S) deviates from 1 by at
    most exp(d) - 1, d = 2 max_c sum_k |W_ck| max(S) bounding the spread of a channel's
    logits over positions; S <= g sigma (g the encoder's gain), so alpha is 1 to
    O(sigma) (measured: 0.003 at sigma 1e-3, bound 0.13). Normalised per image, S is O(1)
    and the same enhancer spreads alpha by O(1) (measured: 13.5)."""
    feat, diff = encoder_views(tiny_sam_checkpoint, noise_std=1e-3)
    paper = random_enhancers(RGANeck(channels=256))
    w = paper.enhancer.weight.flatten(1)
    d = 2 * w.abs().sum(1).max() * diff.abs().max()
    bound = float(torch.expm1(d))
    alpha = paper.attention_map(diff)
    spread = float((alpha - 1).abs().max())
    assert spread <= bound
    # max S is g * sigma with g the encoder's gain (~4 here): the bound is O(sigma)
    scale_free = random_enhancers(RGANeck(channels=256, s_norm='image'))
    spread_free = float((scale_free.attention_map(diff) - 1).abs().max())
    assert spread_free >= 1.0 and spread_free > 100 * spread  # O(1) against O(sigma)
    stats = scale_free.diagnostics(feat, diff)
    assert stats['rga_alpha_entropy'] < paper.diagnostics(feat, diff)['rga_alpha_entropy']


@pytest.mark.parametrize('noise_pass,tolerance', [('batched', 5e-2), ('jvp', 1e-3)])
def test_scale_free_signal_does_not_depend_on_sigma(tiny_sam_checkpoint, noise_pass, tolerance):
    """S / mean(S) at sigma 1e-3 and 1e-2: the same to first order (two views: second-order
    terms of relative size O(sigma)); forward mode is first order itself, exact up to
    the ReLU kinks it passes as differences."""
    neck = RGANeck(channels=256, s_norm='image')
    signals = [neck.signal(encoder_views(tiny_sam_checkpoint, sigma, noise_pass)[1])
               for sigma in (1e-3, 1e-2)]
    rel = (signals[1] - signals[0]).norm() / signals[0].norm()
    assert rel < tolerance
    raw = RGANeck(channels=256)
    ratio = (raw.signal(encoder_views(tiny_sam_checkpoint, 1e-2, noise_pass)[1]).mean()
             / raw.signal(encoder_views(tiny_sam_checkpoint, 1e-3, noise_pass)[1]).mean())
    assert 9 < float(ratio) < 11  # the paper's S scales with sigma


def test_rec_loss_in_units_of_sigma():
    feat, noisy = features()
    labels = torch.tensor([0, 1, 0])
    diff = noisy - feat
    raw = RGANeck(channels=8).loss(feat, diff, labels)['loss_rec']
    sigma = RGANeck(channels=8, loss_rec=dict(units='sigma'))
    scaled = sigma.loss(feat, diff, labels, noise_std=1e-3)['loss_rec']
    torch.testing.assert_close(scaled, raw / 1e-3)
    with pytest.raises(ValueError, match='noise_std'):
        sigma.loss(feat, diff, labels)


def test_separate_enhancer_reads_s():
    feat, noisy = features()
    neck = RGANeck(channels=8, enhancer='separate')
    with torch.no_grad():
        neck.enhancer.weight.copy_(torch.eye(8).view(8, 8, 1, 1))
        neck.s_enhancer.weight.copy_(3 * torch.eye(8).view(8, 8, 1, 1))
    s = (noisy - feat).abs()
    alpha = torch.softmax((3 * s).flatten(2), -1).view_as(s) * 16
    torch.testing.assert_close(neck(feat, noisy - feat), alpha * feat + feat)


def test_paper_formulation_is_unchanged_bit_for_bit():
    """The default neck computes eq. 5-7 with exactly the operations it always did."""
    feat, noisy = features()
    neck = random_enhancers(RGANeck(channels=8))
    phi = neck.enhancer
    s = (noisy - feat).abs()
    expected = (phi(s).flatten(2).softmax(-1).view_as(s) * 16) * phi(feat) + feat
    assert torch.equal(neck(feat, noisy - feat), expected)
    labels = torch.tensor([0, 1, 0])
    rec = (s.flatten(1).mean(1) * torch.tensor([1.0, 0.0, 1.0])).sum() / 2
    assert torch.equal(neck.loss(feat, noisy - feat, labels)['loss_rec'], 0.1 * rec)


@pytest.mark.parametrize('rga', [
    dict(), dict(s_norm='image'), dict(s_norm='image', enhancer='separate'),
    dict(s_norm='image', loss_rec=dict(units='sigma')),
    dict(s_norm='image', loss_rec=dict(loss_weight=0.0))])
def test_every_rga_option_trains_and_logs_its_diagnostics(tiny_sam_checkpoint, rga):
    from mmengine.optim import build_optim_wrapper
    from mmseg.registry import MODELS

    from dadf_mm.engine import RGADiagnosticsHook
    from tests.helpers.model_cases import hooked_train_steps, tiny_dadf_cfg
    torch.manual_seed(0)
    model = MODELS.build(tiny_dadf_cfg(tiny_sam_checkpoint, neck=dict(type='RGANeck', **rga)))
    model.init_weights()
    wrapper = build_optim_wrapper(model, dict(optimizer=dict(type='AdamW', lr=1e-3)))
    hook = RGADiagnosticsHook(interval=2, grad_share=True)
    losses, logged = hooked_train_steps(model, wrapper, hook, iters=3)
    keys = {'rga_alpha_std', 'rga_alpha_min', 'rga_alpha_max', 'rga_alpha_entropy',
            'rga_s_rel', 'rga_rec_grad_share'}
    assert keys <= set(logged[0]) and keys <= set(logged[2]) and not keys & set(logged[1])
    assert all(torch.isfinite(torch.tensor(logged[0][k])) for k in keys)
    assert 0 <= logged[0]['rga_rec_grad_share'] <= 1 + 1e-6
    if rga.get('loss_rec', {}).get('loss_weight') == 0.0:
        assert logged[0]['rga_rec_grad_share'] == 0
    assert losses[0] != losses[2]  # it trains
