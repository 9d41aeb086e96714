"""Each fast path against the reference: forward, and gradients of the trainable parameters.

References: ``segment_anything``'s own encoder (random weights), the explicit-softmax
attention, the float32 model, two separate encoder passes.
"""
import pytest
import torch
from mmseg.registry import MODELS

import dadf_mm  # noqa: F401
from dadf_mm.analysis.benchmark_cases import activate_zero_init
from dadf_mm.models import float64_twin, pearson, rga_signal_fidelity
from dadf_mm.models.layers.attention import RelPosAttention
from dadf_mm.models.utils.sam_checkpoint import load_sam_checkpoint, sub_state_dict
from tests.helpers.model_cases import ACTIVATED_PARTS, batch, tiny_backbone_cfg, tiny_dadf_cfg


def build_backbone(checkpoint, **overrides):
    torch.manual_seed(0)  # the adapters' own initialisation
    backbone = MODELS.build(tiny_backbone_cfg(**overrides))
    backbone.load_sam_weights(sub_state_dict(load_sam_checkpoint(checkpoint), 'image_encoder.'))
    return activate_zero_init(backbone, parts=ACTIVATED_PARTS, zero_only=False)


def build_dadf(checkpoint, backbone=None, adapter_std=0.02, **overrides):
    torch.manual_seed(0)
    model = MODELS.build(tiny_dadf_cfg(checkpoint, backbone=tiny_backbone_cfg(**(backbone or {})),
                                       **overrides))
    model.init_weights()
    return activate_zero_init(model, adapter_std=adapter_std, other_std=adapter_std,
                              parts=ACTIVATED_PARTS, zero_only=False)


def trainable_grads(model):
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad}


def total_loss(model, inputs, samples, seed=0):
    torch.manual_seed(seed)  # fresh models with one seed draw the same training noise
    losses = model.loss(inputs, samples)
    return sum(v for k, v in losses.items() if k.startswith('loss'))


def assert_grads_close(ours, ref, rel=1e-3):
    """Per parameter, ``|g - g_ref| <= rel * |g_ref|``; gradients that are zero in exact
    arithmetic (SAM's key biases: softmax ignores a constant per row) are measured against
    1e-3 of the largest gradient instead of their own rounding noise."""
    assert ours.keys() == ref.keys()
    floor = 1e-3 * max(g.norm() for g in ref.values())
    for name, g in ref.items():
        err = (ours[name] - g).norm() / torch.maximum(g.norm(), floor)
        assert err <= rel, f'{name}: relative gradient error {err:.2e}'


# attention ----------------------------------------------------------------------------------
@pytest.mark.parametrize('size', [(3, 3), (8, 8)])
def test_folded_attention_equals_explicit_softmax(size):
    torch.manual_seed(0)
    outs, grads = {}, {}
    for impl in ('reference', 'sdpa_folded'):
        torch.manual_seed(0)
        attn = RelPosAttention(dim=32, num_heads=4, input_size=size, impl=impl)
        with torch.no_grad():
            attn.rel_pos_h.normal_()
            attn.rel_pos_w.normal_()
        x = torch.randn(2, *size, 32, requires_grad=True)
        out = attn(x)
        out.square().sum().backward()
        outs[impl] = out.detach()
        grads[impl] = {n: p.grad for n, p in attn.named_parameters()}
        grads[impl]['input'] = x.grad
    torch.testing.assert_close(outs['sdpa_folded'], outs['reference'], rtol=1e-4, atol=1e-5)
    for name, g in grads['reference'].items():
        torch.testing.assert_close(grads['sdpa_folded'][name], g, rtol=1e-4, atol=1e-4,
                                   msg=name)


def test_folded_backbone_equals_segment_anything(tiny_sam, tiny_sam_checkpoint, images):
    backbone = MODELS.build(tiny_backbone_cfg(attn_impl='sdpa_folded', adapter=None))
    backbone.load_sam_weights(sub_state_dict(load_sam_checkpoint(tiny_sam_checkpoint),
                                             'image_encoder.'))
    with torch.no_grad():
        diff = (backbone.eval()(images)[0] - tiny_sam.image_encoder(images)).abs().max()
    assert diff <= 1e-4


def test_folded_backbone_gradients_equal_the_reference(tiny_sam_checkpoint, images):
    grads = {}
    for impl in ('reference', 'sdpa_folded'):
        backbone = build_backbone(tiny_sam_checkpoint, attn_impl=impl).train()
        backbone(images)[0].square().mean().backward()
        grads[impl] = trainable_grads(backbone)
    assert_grads_close(grads['sdpa_folded'], grads['reference'], rel=1e-4)


# precision ----------------------------------------------------------------------------------
def test_bfloat16_encoder_is_close_and_returns_float32(tiny_sam_checkpoint, images):
    results = {}
    for dtype in ('float32', 'bfloat16'):
        backbone = build_backbone(tiny_sam_checkpoint, compute_dtype=dtype).train()
        out = backbone(images)[0]
        out.square().mean().backward()
        results[dtype] = out.detach(), trainable_grads(backbone)
    out16, grads16 = results['bfloat16']
    out32, grads32 = results['float32']
    assert out16.dtype == torch.float32
    assert (out16 - out32).norm() / out32.norm() < 2e-2
    assert not torch.equal(out16, out32)  # it did run in bf16
    # bf16 rounding (2^-8) through four blocks and back: about 1 % on the gradient as a
    # whole, up to ~15 % on the small gradients inside the adapters
    flat16 = torch.cat([g.flatten() for g in grads16.values()])
    flat32 = torch.cat([g.flatten() for g in grads32.values()])
    assert (flat16 - flat32).norm() / flat32.norm() < 3e-2
    assert_grads_close(grads16, grads32, rel=0.3)


def test_float32_encoder_stays_float32_inside_an_outer_autocast(tiny_sam_checkpoint):
    """mmengine's AmpOptimWrapper wraps the whole step in autocast: a config that did not
    ask for low precision keeps a float32 encoder, RGA and head (bit for bit)."""
    model = build_dadf(tiny_sam_checkpoint).eval()
    inputs, samples = batch()
    with torch.no_grad():
        plain = model.predict(inputs, samples)
        with torch.autocast('cpu', dtype=torch.bfloat16):
            amp = model.predict(inputs, samples)
    for a, b in zip(plain, amp):
        assert torch.equal(a.seg_logits.data, b.seg_logits.data)
        assert torch.equal(a.pred_score, b.pred_score)


def test_low_precision_views_are_refused():
    with pytest.raises(ValueError, match="noise=dict\\(mode='jvp'\\)"):
        MODELS.build(tiny_dadf_cfg(backbone=tiny_backbone_cfg(compute_dtype='bfloat16')))
    MODELS.build(tiny_dadf_cfg(backbone=tiny_backbone_cfg(compute_dtype='bfloat16'),
                               noise=dict(mode='jvp')))
    MODELS.build(tiny_dadf_cfg(backbone=tiny_backbone_cfg(compute_dtype='bfloat16'),
                               neck=None))  # without RGA there is no difference to lose


# views ----------------------------------------------------------------------------------------
def test_separate_passes_equal_one_batched_pass(tiny_sam_checkpoint):
    inputs, samples = batch()
    results = {}
    for noise_pass in ('batched', 'separate'):
        model = build_dadf(tiny_sam_checkpoint, noise=dict(mode=noise_pass)).eval()
        total_loss(model, inputs, samples).backward()
        with torch.no_grad():
            preds = model.predict(inputs, samples)
        results[noise_pass] = preds, trainable_grads(model)
    for a, b in zip(results['batched'][0], results['separate'][0]):
        torch.testing.assert_close(a.seg_logits.data, b.seg_logits.data)
    assert_grads_close(results['separate'][1], results['batched'][1], rel=1e-4)


# forward-mode RGA -------------------------------------------------------------------------
def test_jvp_pass_equals_the_views_in_float32(tiny_sam_checkpoint):
    """F, S and the gradients of the whole loss: first order in sigma (1e-3) is exact to
    about 1e-3 relative."""
    inputs, samples = batch()
    models, grads, losses = {}, {}, {}
    for noise_pass in ('batched', 'jvp'):
        model = build_dadf(tiny_sam_checkpoint, noise=dict(mode=noise_pass)).eval()
        loss = total_loss(model, inputs, samples)
        loss.backward()
        models[noise_pass], grads[noise_pass], losses[noise_pass] = model, \
            trainable_grads(model), loss.detach()
    metas = [s.metainfo for s in samples]
    fidelity = rga_signal_fidelity(models['jvp'], models['batched'], inputs, metas)
    assert fidelity['f_rel_err'] < 1e-5
    assert fidelity['s_corr'] > 0.999 and fidelity['s_rel_err'] < 2e-2
    torch.testing.assert_close(losses['jvp'], losses['batched'], rtol=1e-3, atol=0)
    assert_grads_close(grads['jvp'], grads['batched'], rel=2e-2)
    assert grads['jvp']['backbone.adapters.0.output_proj.weight'].abs().sum() > 0


def test_jvp_training_with_checkpointing_gives_the_same_gradients(tiny_sam_checkpoint):
    inputs, samples = batch()
    grads = []
    for ckpt in (False, True):
        model = build_dadf(tiny_sam_checkpoint, noise=dict(mode='jvp'),
                           backbone=dict(grad_checkpointing=ckpt)).train()
        total_loss(model, inputs, samples).backward()
        grads.append(trainable_grads(model))
    assert_grads_close(grads[1], grads[0], rel=1e-5)


@pytest.mark.parametrize('dtype,adapter_std', [('float16', 0.02), ('bfloat16', 0.0)])
def test_rga_signal_of_the_fast_config(tiny_sam_checkpoint, dtype, adapter_std):
    """The default fast config (forward-mode RGA, float16 encoder, folded attention) keeps
    corr(S, S_fp32) >= 0.99 with active adapters; in bfloat16 it does at initialisation
    (identity adapters). Two bfloat16 views do not: their S is rounding noise."""
    inputs, samples = batch()
    metas = [s.metainfo for s in samples]
    reference = build_dadf(tiny_sam_checkpoint, noise=dict(mode='separate'),
                           backbone=dict(attn_impl='reference'), adapter_std=adapter_std)
    fast = build_dadf(tiny_sam_checkpoint, noise=dict(mode='jvp'),
                      backbone=dict(attn_impl='sdpa_folded', compute_dtype=dtype))
    fast.load_state_dict(reference.state_dict())
    assert rga_signal_fidelity(fast, reference, inputs, metas)['s_corr'] >= 0.99
    naive = build_dadf(tiny_sam_checkpoint, noise=dict(mode='batched'))
    naive.backbone.compute_dtype = 'bfloat16'  # past the refusal, to measure what it prevents
    naive.load_state_dict(reference.state_dict())
    assert rga_signal_fidelity(naive, reference, inputs, metas)['s_corr'] < 0.5


def test_bfloat16_tangent_keeps_the_signal_where_bfloat16_views_lose_it(tiny_sam_checkpoint):
    """A float32 pass with a bfloat16 tangent (the CPU fast path): ``F`` is the float32
    pass's, bit for bit; ``S`` keeps corr >= 0.999 with active adapters, where a bfloat16
    encoder (its kinks moved by bfloat16's rounding of the primal) loses more; it trains."""
    inputs, samples = batch()
    metas = [s.metainfo for s in samples]
    reference = build_dadf(tiny_sam_checkpoint, noise=dict(mode='separate'),
                           backbone=dict(attn_impl='reference'))
    paths = dict(tangent=dict(tangent_dtype='bfloat16'), float32={},
                 encoder=dict(compute_dtype='bfloat16'))
    fidelity, models = {}, {}
    for name, keys in paths.items():
        models[name] = build_dadf(tiny_sam_checkpoint, noise=dict(mode='jvp'),
                                  backbone=dict(attn_impl='sdpa_folded', **keys))
        models[name].load_state_dict(reference.state_dict())
        fidelity[name] = rga_signal_fidelity(models[name], reference, inputs, metas)
    with torch.no_grad():
        (feat, ), tangent = models['tangent'].backbone(inputs, torch.ones_like(inputs))
        (feat32, ), _ = models['float32'].backbone(inputs, torch.ones_like(inputs))
    assert torch.equal(feat, feat32) and tangent.dtype == torch.float32
    assert fidelity['tangent']['s_corr'] >= 0.999
    assert fidelity['tangent']['s_rel_err'] < fidelity['encoder']['s_rel_err']
    model = models['tangent'].train()
    loss = total_loss(model, inputs, samples)
    loss.backward()
    assert torch.isfinite(loss)
    assert model.backbone.adapters[0].output_proj.weight.grad.abs().sum() > 0


def test_a_tangent_dtype_needs_a_float32_encoder():
    with pytest.raises(ValueError, match="tangent_dtype='float16' needs compute_dtype='float32'"):
        MODELS.build(tiny_backbone_cfg(compute_dtype='bfloat16', tangent_dtype='float16'))
    with pytest.raises(ValueError, match='tangent_dtype must be one of'):
        MODELS.build(tiny_backbone_cfg(tangent_dtype='int8'))


FAST_KEYS = dict(noise=dict(mode='jvp'))
FAST_BACKBONE = dict(attn_impl='sdpa_folded', grad_checkpointing=True)
REFERENCE_KEYS = dict(noise=dict(mode='separate'))
REFERENCE_BACKBONE = dict(attn_impl='reference')
# unit roundoffs: the relative rounding error of one operation
UNIT_ROUNDOFF = {torch.float32: 2.0 ** -24, torch.float16: 2.0 ** -11}


def step_grads(checkpoint, keys, backbone, dtype=None):
    """Trainable gradients of one training step; ``dtype=torch.float64`` runs the whole
    model in float64 (the exact arithmetic reference), else float32 weights."""
    model = build_dadf(checkpoint, backbone=backbone, **keys).train()
    inputs, samples = batch()
    if dtype is not None:
        model, inputs = model.to(dtype), inputs.to(dtype)
    loss = total_loss(model, inputs, samples)
    assert torch.isfinite(loss)
    loss.backward()
    return {k: g.double() for k, g in trainable_grads(model).items()}


def relative_errors(ours, exact, floor_fraction=1e-3):
    """Per parameter ``|g - g_exact| / max(|g_exact|, floor)`` (norms), the floor a fraction
    of the largest exact gradient (for gradients that are zero in exact arithmetic)."""
    floor = floor_fraction * max(g.norm() for g in exact.values())
    return {n: float((ours[n] - g).norm() / torch.maximum(g.norm(), floor))
            for n, g in exact.items()}


def test_fast_config_trains_like_the_exact_reference(tiny_sam_checkpoint):
    """One training step of the fast config (forward-mode RGA, float16 encoder, folded
    attention, per-block checkpointing) against exact arithmetic, in two claims:

    1. Its structure is right: in float64 its gradients equal those of the reference
       (two float64 views, SAM's attention) to first order in sigma (2e-2, the bound of
       ``test_jvp_pass_equals_the_views_in_float32``); no rounding enters.
    2. Its float16 error is rounding, measured against a baseline from this very run:
       per parameter, the ratio ``r = e16 / (2^13 e32)`` of the float16 error to the
       float32 error (both against the float64 run) scaled by the unit roundoffs' ratio.
       Rounding makes ``r`` of order one for every parameter alike, whatever the CPU's
       kernels (their accumulation order and width move every ``r`` together). So (a)
       no parameter's ``r`` exceeds 10x the median ``r``: a wrong derivative for one layer
       stands out; one sample's spread is ~3x (measured max/median 3.1); (b) the median
       ``r`` is at most 64: float16 accumulation over the largest reduction here (288
       terms) could cost sqrt(288) ~ 17 on top of the ~3 measured with float32
       accumulation. No threshold is one machine's observed error.
    """
    ref64 = step_grads(tiny_sam_checkpoint, REFERENCE_KEYS, REFERENCE_BACKBONE, torch.float64)
    fast64 = step_grads(tiny_sam_checkpoint, FAST_KEYS, FAST_BACKBONE, torch.float64)
    fast32 = step_grads(tiny_sam_checkpoint, FAST_KEYS, FAST_BACKBONE)
    fast16 = step_grads(tiny_sam_checkpoint, FAST_KEYS,
                        dict(FAST_BACKBONE, compute_dtype='float16'))
    for name, err in relative_errors(fast64, ref64).items():
        assert err <= 2e-2, f'{name}: structure error {err:.2e} (float64)'
    scale = UNIT_ROUNDOFF[torch.float16] / UNIT_ROUNDOFF[torch.float32]
    largest = max(g.norm() for g in fast64.values())
    ratios = {}
    for name, exact in fast64.items():
        err16 = float((fast16[name] - exact).norm())
        err32 = float((fast32[name] - exact).norm())
        if err16 <= 1e-3 * float(max(exact.norm(), 1e-3 * largest)):
            continue  # float16 is as good as exact here
        ratios[name] = err16 / max(scale * err32, 1e-300)
    median = float(torch.tensor(list(ratios.values())).median())
    assert len(ratios) > len(fast64) // 2
    assert median <= 64, f'median float16/float32 error ratio {median:.1f} (unit 2^13)'
    for name, ratio in ratios.items():
        assert ratio <= 10 * median, (
            f'{name}: float16 error {ratio:.1f} x 2^13 x its float32 error, '
            f'the median parameter {median:.1f}')


def test_pearson_against_numpy_reference():
    import numpy as np
    a, b = torch.randn(50), torch.randn(50)
    assert abs(pearson(a, b) - np.corrcoef(a.numpy(), b.numpy())[0, 1]) < 1e-6
    assert abs(pearson(a, 3 * a + 1) - 1) < 1e-9


def test_training_logs_the_rga_signal_check(tiny_sam_checkpoint):
    """``RGADiagnosticsHook(signal_check_interval=2)`` logs ``rga_s_corr`` every 2 training
    iterations; it equals the correlation against a fresh float64 twin of the trained
    model (the hook's twin, made once, receives the weights of each check); the model is
    left as it was."""
    from mmengine.optim import build_optim_wrapper

    from dadf_mm.engine import RGADiagnosticsHook
    from tests.helpers.model_cases import hooked_train_steps
    inputs, samples = batch()
    model = build_dadf(tiny_sam_checkpoint, noise=dict(mode='jvp'),
                       backbone=dict(compute_dtype='bfloat16')).train()
    wrapper = build_optim_wrapper(model, dict(optimizer=dict(type='AdamW', lr=1e-3)))
    hook = RGADiagnosticsHook(interval=0, signal_check_interval=2)
    _, logged = hooked_train_steps(model, wrapper, hook, iters=3, inputs=inputs,
                                   samples=samples)
    seen = [step.get('rga_s_corr') for step in logged]
    assert seen[0] is not None and seen[1] is None and seen[2] is not None
    assert model.training and model.backbone.compute_dtype == 'bfloat16'
    assert model.noise.mode == 'jvp' and next(model.parameters()).dtype == torch.float32
    metas = [dict(img_path=f'rga_signal_check_{i}') for i in range(2)]
    expected = rga_signal_fidelity(model, float64_twin(model), inputs, metas)['s_corr']
    assert float(seen[2]) == pytest.approx(expected, abs=1e-6)
    assert 0.99 <= float(seen[2]) <= 1.0


def test_rga_signal_check_sees_a_fault_of_float32_itself(tiny_sam_checkpoint, monkeypatch):
    """A global fault of float32 arithmetic (as TF32 is on a GPU: every float32 product
    rounded, here emulated by rounding the inputs of every float32 linear layer to
    bfloat16) degrades S; a reference computed by the same float32 model would obey the
    same fault and agree with it, the float64 twin does not."""
    inputs, _ = batch()
    model = build_dadf(tiny_sam_checkpoint, noise=dict(mode='batched')).eval()
    assert model.rga_signal_check(inputs) > 0.999
    linear = torch.nn.functional.linear

    def rounded_linear(x, weight, bias=None):
        if x.dtype == torch.float32:
            x, weight = x.bfloat16().float(), weight.bfloat16().float()
        return linear(x, weight, bias)

    monkeypatch.setattr(torch.nn.functional, 'linear', rounded_linear)
    metas = [dict(img_path=f'rga_signal_check_{i}') for i in range(2)]
    assert rga_signal_fidelity(model, model, inputs, metas)['s_corr'] > 0.999  # blind
    assert model.rga_signal_check(inputs) < 0.5
