"""The SAM+Prompt baseline's prompt layer: SAM at step 0, its written JVP, its config."""
import torch
from mmengine.config import Config
from mmseg.registry import MODELS

import dadf_mm  # noqa: F401
from dadf_mm.models.layers import PromptLayer
from tests.helpers.model_cases import tiny_backbone_cfg


def test_identity_at_initialisation_and_trainable_after_one_step():
    torch.manual_seed(0)
    layer = PromptLayer(dim=32, reduction=4)
    x = torch.randn(2, 5, 6, 32)
    assert torch.equal(layer(x), x)
    layer(x).square().sum().backward()
    # only the zero gain's gradient is non-zero at step 0 (the gain blocks the rest)
    assert layer.layers[7].weight.grad.abs().sum() > 0


def test_written_jvp_equals_autograd_forward_mode():
    torch.manual_seed(0)
    layer = PromptLayer(dim=16, reduction=4).double()
    with torch.no_grad():
        layer.layers[7].weight.normal_()
    x, t = torch.randn(2, 4, 4, 16).double(), torch.randn(2, 4, 4, 16).double()
    out, tangent = layer(x, t)
    ref_out, ref_tangent = torch.func.jvp(layer, (x, ), (t, ))
    torch.testing.assert_close(out, ref_out)
    torch.testing.assert_close(tangent, ref_tangent)


def test_backbone_with_prompt_layers_starts_as_without(tiny_sam_checkpoint, images):
    from dadf_mm.models.utils.sam_checkpoint import load_sam_checkpoint, sub_state_dict
    state = sub_state_dict(load_sam_checkpoint(tiny_sam_checkpoint), 'image_encoder.')
    outs = []
    for adapter in (None, dict(type='PromptLayer', reduction=4)):
        backbone = MODELS.build(tiny_backbone_cfg(adapter=adapter)).eval()
        backbone.load_sam_weights(state)
        outs.append(backbone(images)[0])
    torch.testing.assert_close(outs[1], outs[0])  # x + 0 (memory layout may differ)


def test_baseline_config_trains_only_prompts_and_heads():
    cfg = Config.fromfile('configs/baselines/sam-prompt_vit-h_ffpp-hq.py')
    cfg.model.sam_checkpoint = None
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    trainable = {n.split('.')[0] + '.' + n.split('.')[1] for n, p in model.named_parameters()
                 if p.requires_grad}
    assert trainable == {'backbone.adapters', 'decode_head.mask_decoder',
                         'decode_head.cls_branch'}
    assert all(isinstance(a, PromptLayer) for a in model.backbone.adapters)
    assert not model.with_neck
