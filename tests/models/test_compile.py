"""``compile``: every block and adapter through torch.compile, equal to eager.

The tests trace with the ``aot_eager`` backend (dynamo graphs, AOT autograd, no code
generation), which checks that compiling changes nothing in forward, backward and the
written-out JVP; inductor's code generation takes minutes on a CPU and is exercised by
the benchmark instead.
"""
import copy

import torch
from mmseg.registry import MODELS

import dadf_mm  # noqa: F401
from tests.helpers.model_cases import activate, tiny_backbone_cfg


def build(**overrides):
    torch.manual_seed(0)
    return activate(MODELS.build(tiny_backbone_cfg(attn_impl='sdpa_folded', **overrides)))


def test_compiled_encoder_equals_eager(images):
    torch._dynamo.reset()
    eager = build().train()
    compiled = build(compile=dict(backend='aot_eager')).train()
    assert compiled.compiled and list(compiled.state_dict()) == list(eager.state_dict())
    compiled.load_state_dict(eager.state_dict())
    tangent = torch.randn_like(images)
    results = []
    for model in (eager, compiled):
        out = model(images)[0]
        _, t_feat = model(images, tangent)
        (out.square().mean() + t_feat.abs().mean()).backward()
        results.append((out.detach(), t_feat.detach(),
                        {n: p.grad for n, p in model.named_parameters() if p.requires_grad}))
    torch.testing.assert_close(results[1][0], results[0][0], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(results[1][1], results[0][1], rtol=1e-5, atol=1e-5)
    for name, grad in results[0][2].items():
        torch.testing.assert_close(results[1][2][name], grad, rtol=1e-4, atol=1e-6, msg=name)
    copy.deepcopy(compiled)  # EMA hooks and checkpoint tools copy the model
