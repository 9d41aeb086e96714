"""The encoder's one traversal: ``SAMViT.forward(x)`` and ``SAMViT.forward(x, tangent)``
compute the same features bit for bit (every attention path, with and without gradient
checkpointing, for DADF's adapters and for the prompt-layer and LoRA baselines), and the
features' gradient is the same too; the tangent is the features' derivative."""
import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS

import dadf_mm  # noqa: F401
from dadf_mm.models.layers import ATTENTION_IMPLS
from tests.helpers.model_cases import tiny_backbone_cfg
from tests.helpers.sam_reference import TINY_ARCH, TINY_SIZE, TINY_WINDOW

BASELINES = ('configs/baselines/sam-prompt_vit-h_ffpp-hq.py',
             'configs/baselines/sam-lora_vit-h_ffpp-hq.py')


def moved(backbone: torch.nn.Module, std: float = 0.02) -> torch.nn.Module:
    """Every trainable parameter off its initial value (adapters and LoRA out of their
    identity), so that each layer changes the features and gets a gradient."""
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in backbone.parameters():
            if p.requires_grad:
                p.add_(std * torch.randn(p.shape, generator=gen))
    return backbone


def features_and_grads(backbone, x, tangent=None):
    """``F`` (and its tangent) and the gradient of ``mean(F^2)`` on the trainable
    parameters."""
    backbone.zero_grad()
    if tangent is None:
        (feat, ), t_feat = backbone(x), None
    else:
        (feat, ), t_feat = backbone(x, tangent, step=1e-3)
    feat.square().mean().backward()
    return feat.detach(), t_feat, [p.grad.clone() for p in backbone.parameters()
                                   if p.requires_grad]


def assert_one_traversal(backbone):
    torch.manual_seed(1)
    x = torch.randn(2, 3, TINY_SIZE, TINY_SIZE)
    tangent = torch.randn_like(x)
    feat, _, grads = features_and_grads(backbone, x)
    feat_t, t_feat, grads_t = features_and_grads(backbone, x, tangent)
    assert torch.equal(feat, feat_t)
    assert t_feat.shape == feat.shape and t_feat.dtype == torch.float32
    assert t_feat.abs().max() > 0
    assert len(grads) == len(grads_t) > 0
    assert all(torch.equal(a, b) for a, b in zip(grads, grads_t))


@pytest.mark.parametrize('attn_impl', ATTENTION_IMPLS)
@pytest.mark.parametrize('grad_checkpointing', [False, True])
def test_features_are_the_same_with_and_without_a_tangent(attn_impl, grad_checkpointing):
    torch.manual_seed(0)
    backbone = moved(MODELS.build(tiny_backbone_cfg(
        attn_impl=attn_impl, grad_checkpointing=grad_checkpointing))).train()
    assert_one_traversal(backbone)


@pytest.mark.parametrize('config', BASELINES)
def test_baseline_backbones_run_one_traversal(config):
    """The SAM+Prompt and SAM+LoRA baselines' backbones (their configs, at the tiny
    architecture): the same features with a tangent, and the tangent is torch's own
    forward-mode derivative of the features."""
    cfg = dict(Config.fromfile(config).model.backbone)
    cfg.update(arch=dict(TINY_ARCH), img_size=TINY_SIZE, window_size=TINY_WINDOW)
    torch.manual_seed(0)
    backbone = moved(MODELS.build(cfg)).train()
    assert_one_traversal(backbone)
    backbone.eval().set_attn_impl('reference')  # torch's forward AD has no fused kernels
    x, tangent = torch.randn(1, 3, TINY_SIZE, TINY_SIZE), torch.randn(1, 3, TINY_SIZE, TINY_SIZE)
    with torch.no_grad():
        (feat, ), t_feat = backbone(x, tangent)
        _, ref = torch.func.jvp(lambda v: backbone(v)[0], (x, ), (tangent, ))
    assert torch.equal(feat, backbone(x)[0])
    assert (t_feat - ref).abs().max() <= 1e-4 * ref.abs().max()
