"""The written-out JVPs against torch's forward-mode AD and against float64 finite
differences of the batched two-view pass."""
import pytest
import torch
import torch.autograd.forward_ad as fwAD
from mmseg.registry import MODELS

import dadf_mm  # noqa: F401
from dadf_mm.models.layers import MultiscaleAdapter, PatchEmbed, ViTBlock
from dadf_mm.models.layers.attention import rel_pos_bias
from dadf_mm.models.layers.jvp import gelu_jvp, layer_norm_jvp, softmax_attention_tangent
from tests.helpers.model_cases import tiny_backbone_cfg
from tests.helpers.sam_reference import TINY_SIZE


def perturbed(module, std=0.05, seed=0):
    """Every parameter moved off its initial value, so every term of a derivative counts."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(std * torch.randn(p.shape, generator=gen, dtype=p.dtype))
    return module


def func_jvp(fn, x, t):
    """torch's own forward-mode derivative (the reference)."""
    return torch.func.jvp(fn, (x, ), (t, ))


def assert_jvp_matches(ours, ref, rtol=1e-4):
    for a, b in zip(ours, ref):
        assert a.shape == b.shape
        assert (a - b).abs().max() <= rtol * b.abs().max(), (a - b).abs().max()


def test_elementwise_and_norm_jvps():
    torch.manual_seed(0)
    x, t = torch.randn(3, 5, 16), torch.randn(3, 5, 16)
    torch.testing.assert_close(gelu_jvp(x, t), func_jvp(torch.nn.functional.gelu, x, t)[1])
    weight = torch.randn(16)
    ln = lambda v: torch.nn.functional.layer_norm(v, (16, ), weight, None, 1e-6)  # noqa: E731
    torch.testing.assert_close(layer_norm_jvp(x, t, weight, 1e-6), func_jvp(ln, x, t)[1],
                               rtol=1e-4, atol=1e-5)
    # channels-first (SAM's LayerNorm2d)
    x2, t2 = torch.randn(2, 16, 3, 3), torch.randn(2, 16, 3, 3)
    ln2 = lambda v: ln(v.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)  # noqa: E731
    torch.testing.assert_close(layer_norm_jvp(x2, t2, weight, 1e-6, dim=1),
                               func_jvp(ln2, x2, t2)[1], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('window_size', [0, 3, 4])  # global, padded, unpadded windows
def test_vit_block_jvp(window_size):
    torch.manual_seed(0)
    block = perturbed(ViTBlock(dim=32, num_heads=4, window_size=window_size,
                               input_size=(8, 8), attn_impl='reference'))
    x, t = torch.randn(2, 8, 8, 32), torch.randn(2, 8, 8, 32)
    ours = block(x, t)
    assert_jvp_matches(ours, func_jvp(block, x, t))
    torch.testing.assert_close(ours[0], block(x))  # the primal is the block's own output


def test_patch_embed_and_adapter_jvp_in_eval_mode():
    torch.manual_seed(0)
    embed = perturbed(PatchEmbed(patch_size=4, embed_dim=16))
    x, t = torch.randn(2, 3, 16, 16), torch.randn(2, 3, 16, 16)
    assert_jvp_matches(embed(x, t), func_jvp(embed, x, t))
    adapter = perturbed(MultiscaleAdapter(dim=16, inner_channels=8)).eval()
    y, ty = torch.randn(2, 6, 6, 16), torch.randn(2, 6, 6, 16)
    assert_jvp_matches(adapter(y, ty), func_jvp(adapter, y, ty))


def test_adapter_jvp_in_training_is_the_batched_views_difference():
    """With BatchNorm on batch statistics, the clean and the noisy view of one batched pass
    share the statistics; the JVP holds them fixed, which is the limit of that difference."""
    torch.manual_seed(0)
    adapter = perturbed(MultiscaleAdapter(dim=16, inner_channels=8)).double().train()
    x, t = torch.randn(2, 6, 6, 16, dtype=torch.float64), torch.randn(2, 6, 6, 16,
                                                                      dtype=torch.float64)
    eps = 1e-6
    both = adapter(torch.cat([x + eps * t, x]))
    finite_difference = (both[:2] - both[2:]) / eps
    out, tangent = adapter(x, t)
    torch.testing.assert_close(tangent, finite_difference, rtol=1e-4, atol=1e-5)
    # forward-mode AD through the batch statistics is another derivative (of one view
    # normalised by its own statistics): the distinction is visible at this batch size
    with fwAD.dual_level():
        with_stats = fwAD.unpack_dual(adapter(fwAD.make_dual(x, t))).tangent
    assert (with_stats - finite_difference).abs().max() > 1e-2 * finite_difference.abs().max()


def test_backbone_forward_jvp_equals_forward_mode_ad(tiny_sam_checkpoint):
    torch.manual_seed(0)
    backbone = perturbed(MODELS.build(tiny_backbone_cfg(attn_impl='reference')), 0.02).eval()
    x, t = torch.randn(1, 3, TINY_SIZE, TINY_SIZE), torch.randn(1, 3, TINY_SIZE, TINY_SIZE)
    with torch.no_grad():
        (feat, ), tangent = backbone(x, t)
        ref_feat, ref_tangent = func_jvp(lambda v: backbone(v)[0], x, t)
    torch.testing.assert_close(feat, backbone(x)[0].detach())
    assert_jvp_matches((feat, tangent), (ref_feat, ref_tangent), rtol=1e-4)


def test_gradients_flow_through_the_tangent():
    """Training differentiates L(F, J t) with respect to the adapters: reverse mode over
    the written-out forward mode, checked against float64 finite differences."""
    torch.manual_seed(0)
    block = perturbed(ViTBlock(dim=16, num_heads=2, input_size=(4, 4),
                               attn_impl='reference')).double()
    adapter = perturbed(MultiscaleAdapter(dim=16, inner_channels=8)).double().eval()
    x = torch.randn(1, 4, 4, 16, dtype=torch.float64)
    t = torch.randn(1, 4, 4, 16, dtype=torch.float64)

    def loss():
        y, ty = block(*adapter(x, t))
        return ty.square().mean() + 0.1 * y.square().mean()

    weight = adapter.output_proj.weight
    (grad, ) = torch.autograd.grad(loss(), [weight])
    direction = torch.randn_like(weight)
    eps = 1e-6
    with torch.no_grad():
        weight.add_(eps * direction)
        up = loss()
        weight.sub_(2 * eps * direction)
        down = loss()
        weight.add_(eps * direction)
    torch.testing.assert_close((grad * direction).sum(), (up - down) / (2 * eps),
                               rtol=1e-5, atol=1e-8)


def test_chunked_attention_jvp_equals_one_piece():
    """Large attentions run in checkpointed chunks of heads: same values, same gradients."""
    torch.manual_seed(0)
    tensors = [torch.randn(6, 10, 8, requires_grad=True) for _ in range(6)]
    results = []
    for limit in (None, 2 * 10 * 10):  # one piece; chunks of two (batch * head) rows
        t_out = softmax_attention_tangent(*tensors, max_elements=limit)
        grads = torch.autograd.grad(t_out.square().sum(), tensors)
        results.append((t_out, grads))
    for a, b in zip((results[0][0], *results[0][1]), (results[1][0], *results[1][1])):
        torch.testing.assert_close(a, b)
    # and the one-piece result is the derivative of softmax attention
    q, k, v = (t.detach() for t in tensors[:3])
    tq, tk, tv = (t.detach() for t in tensors[3:])
    ref = func_jvp(lambda s: torch.softmax(s[0] @ s[1].transpose(-2, -1), -1) @ s[2],
                   torch.stack([q, k, v]), torch.stack([tq, tk, tv]))
    torch.testing.assert_close(results[0][0], ref[1], rtol=1e-4, atol=1e-5)


def test_attention_jvp_with_the_decomposed_bias_is_forward_mode_ad():
    """SAM's relative position bias is added to the materialised logits, its direction to
    the logits' direction: forward-mode AD of the explicit attention, whole or in chunks."""
    torch.manual_seed(0)
    n, k_h, k_w, c = 4, 3, 4, 8
    length = k_h * k_w
    shapes = [(n, length, c)] * 3 + [(n, k_h, k_w, k_h), (n, k_h, k_w, k_w)]
    primals = [torch.randn(shape) for shape in shapes]
    tangents = [torch.randn(shape) for shape in shapes]

    def attention(q, k, v, rel_h, rel_w):
        logits = q @ k.transpose(-2, -1) + rel_pos_bias(rel_h, rel_w)
        return logits.softmax(-1) @ v

    _, ref = torch.func.jvp(attention, tuple(primals), tuple(tangents))
    q, k, v, rel_h, rel_w = primals
    tq, tk, tv, t_rel_h, t_rel_w = tangents
    for limit in (None, 2 * length * length):
        ours = softmax_attention_tangent(q, k, v, tq, tk, tv, max_elements=limit,
                                         bias=(rel_h, rel_w), t_bias=(t_rel_h, t_rel_w))
        torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-5)


def test_relu_difference_makes_the_adapter_exact_over_any_step():
    """In eval mode the adapter is piecewise linear (conv, BatchNorm, ReLU): with ``step``
    its tangent is the exact difference of the two views however far apart, kinks
    crossed included; the plain derivative is not."""
    torch.manual_seed(0)
    adapter = perturbed(MultiscaleAdapter(dim=16, inner_channels=8), std=0.3).double().eval()
    x = torch.randn(2, 6, 6, 16, dtype=torch.float64)
    t = torch.randn(2, 6, 6, 16, dtype=torch.float64)
    step = 0.5
    difference = (adapter(x + step * t) - adapter(x)) / step
    _, tangent = adapter(x, t, step)
    torch.testing.assert_close(tangent, difference, rtol=1e-10, atol=1e-10)
    _, derivative = adapter(x, t)
    assert (derivative - difference).abs().max() > 1e-2
