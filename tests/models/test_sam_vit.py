"""The backbone against segment_anything's ImageEncoderViT, and its adapters."""
import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

import dadf_mm  # noqa: F401
from dadf_mm.models.layers import ADAPTER_VARIANTS, MultiscaleAdapter, ViTBlock
from dadf_mm.models.utils.sam_checkpoint import load_sam_checkpoint, sub_state_dict
from tests.helpers.model_cases import tiny_backbone_cfg
from tests.helpers.sam_reference import TINY_SIZE, build_reference_sam, save_state_dict


def build_backbone(checkpoint, **overrides):
    backbone = MODELS.build(tiny_backbone_cfg(**overrides))
    state = sub_state_dict(load_sam_checkpoint(checkpoint), 'image_encoder.')
    backbone.load_sam_weights(state, source=checkpoint)
    return backbone.eval()


@pytest.mark.parametrize('attn_impl', ['sdpa', 'reference'])
@pytest.mark.parametrize('adapter', [None, dict(variant='A', inner_channels=32)])
def test_backbone_equals_sam_image_encoder(tiny_sam, tiny_sam_checkpoint, images, attn_impl,
                                           adapter):
    backbone = build_backbone(tiny_sam_checkpoint, attn_impl=attn_impl, adapter=adapter)
    with torch.no_grad():
        ours = backbone(images)[0]
        ref = tiny_sam.image_encoder(images)
    assert ours.shape == ref.shape == (2, 256, TINY_SIZE // 16, TINY_SIZE // 16)
    assert (ours - ref).abs().max().item() <= 1e-4


@pytest.mark.parametrize('window_size', [3, 4])  # an 8 x 8 grid padded to 9 x 9; none
def test_windowed_block_equals_segment_anything_padded_or_not(window_size):
    """The windowed block projects the tokens and gives the padding the projection of zero
    (padded), or projects SAM's windows (unpadded): SAM's block either way."""
    from segment_anything.modeling.image_encoder import Block
    torch.manual_seed(0)
    sam = Block(dim=32, num_heads=4, use_rel_pos=True, window_size=window_size,
                input_size=(8, 8))
    with torch.no_grad():
        for name, param in sam.named_parameters():
            if 'rel_pos' in name:
                param.normal_(std=0.1)
    ours = ViTBlock(dim=32, num_heads=4, window_size=window_size, input_size=(8, 8),
                    attn_impl='reference')
    ours.load_state_dict(sam.state_dict())
    x = torch.randn(2, 8, 8, 32)
    torch.testing.assert_close(ours(x), sam(x), rtol=1e-5, atol=1e-5)


def test_attention_paths_agree_in_forward_and_gradients(tiny_sam_checkpoint, images):
    grads = {}
    outs = {}
    for impl in ('sdpa', 'reference'):
        torch.manual_seed(0)
        backbone = build_backbone(tiny_sam_checkpoint, attn_impl=impl).train()
        for adapter in backbone.adapters:  # leave the identity so adapter grads are non-trivial
            torch.nn.init.normal_(adapter.output_proj.weight, std=0.02)
        out = backbone(images)[0]
        out.square().mean().backward()
        outs[impl] = out.detach()
        grads[impl] = {n: p.grad.clone() for n, p in backbone.named_parameters()
                       if p.requires_grad}
    assert (outs['sdpa'] - outs['reference']).abs().max() <= 1e-4
    for name, g in grads['reference'].items():
        torch.testing.assert_close(grads['sdpa'][name], g, rtol=1e-3, atol=1e-5, msg=name)


def test_grad_checkpointing_gives_the_same_gradients(tiny_sam_checkpoint, images):
    results = []
    for ckpt in (False, True, 2):
        torch.manual_seed(0)
        backbone = build_backbone(tiny_sam_checkpoint, grad_checkpointing=ckpt).train()
        for adapter in backbone.adapters:
            torch.nn.init.normal_(adapter.output_proj.weight, std=0.02)
        backbone(images)[0].sum().backward()
        results.append({n: p.grad.clone() for n, p in backbone.named_parameters()
                        if p.grad is not None})
    assert backbone.grad_checkpointing_blocks == 2
    for other in results[1:]:
        assert other.keys() == results[0].keys()
        for name, g in results[0].items():
            torch.testing.assert_close(other[name], g, msg=name)


def test_official_vit_b_checkpoint_loads_at_another_input_size(tmp_path):
    """A full-size vit_b file (1024 px) used at 256 px: positions are resized on load."""
    sam = build_reference_sam(embed_dim=768, depth=12, num_heads=12,
                              global_attn_indexes=(2, 5, 8, 11), img_size=1024, seed=3)
    path = save_state_dict(sam, str(tmp_path / 'sam_vit_b_01ec64.pth'))
    backbone = MODELS.build(dict(type='SAMViT', arch='vit_b', img_size=256, adapter=None))
    backbone.load_sam_weights(sub_state_dict(load_sam_checkpoint(path), 'image_encoder.'),
                              source=path)
    backbone.eval()
    # Reference: SAM's encoder at 256 px with the checkpoint's own relative position tables
    # (SAM interpolates them at run time) and the absolute embedding resized bicubically.
    ref = build_reference_sam(embed_dim=768, depth=12, num_heads=12,
                              global_attn_indexes=(2, 5, 8, 11), img_size=256).image_encoder
    state = sam.image_encoder.state_dict()
    with torch.no_grad():
        for name, param in ref.named_parameters():
            if 'rel_pos' in name:
                module = ref.get_submodule(name.rsplit('.', 1)[0])
                setattr(module, name.rsplit('.', 1)[1], torch.nn.Parameter(state[name].clone()))
            elif name == 'pos_embed':
                param.copy_(F.interpolate(state[name].permute(0, 3, 1, 2), size=(16, 16),
                                          mode='bicubic', align_corners=False).permute(0, 2, 3, 1))
            else:
                param.copy_(state[name])
    x = torch.randn(1, 3, 256, 256)
    with torch.no_grad():
        diff = (backbone(x)[0] - ref.eval()(x)).abs().max().item()
    assert diff <= 1e-4


def test_sam_parameters_are_frozen_and_the_rest_trains(tiny_sam_checkpoint):
    backbone = build_backbone(tiny_sam_checkpoint)
    trainable = {n.split('.')[0] for n, p in backbone.named_parameters() if p.requires_grad}
    frozen = {n.split('.')[0] for n, p in backbone.named_parameters() if not p.requires_grad}
    assert trainable == {'adapters', 'task_head'}
    assert frozen == {'patch_embed', 'pos_embed', 'blocks', 'neck'}


@pytest.mark.parametrize('variant', sorted(ADAPTER_VARIANTS))
def test_adapter_variants(variant):
    adapter = MultiscaleAdapter(dim=24, inner_channels=8, variant=variant)
    expected = {'A': {'f', 'g', 'h'}, 'B': {'f', 'g', 'h'}, 'C': {'f', 'h'}, 'D': {'g', 'h'}}
    assert set(adapter.branches) == expected[variant]
    dilations = {name: branch[1].conv.dilation[0] for name, branch in adapter.branches.items()}
    kernels = {name: branch[0].conv.kernel_size[0] for name, branch in adapter.branches.items()}
    want_dilation = {'f': 1, 'g': 3, 'h': 5}
    for name in adapter.branches:
        assert dilations[name] == (1 if variant == 'B' else want_dilation[name])
        assert kernels[name] == {'f': 1, 'g': 3, 'h': 5}[name]
    x = torch.randn(2, 9, 9, 24)
    adapter.train()
    assert torch.equal(adapter(x), x) or (adapter(x) - x).abs().max() < 1e-6
    torch.nn.init.normal_(adapter.output_proj.weight, std=0.1)
    y = adapter(x)
    assert y.shape == x.shape and (y - x).abs().max() > 1e-3


def test_unknown_adapter_variant_is_refused():
    with pytest.raises(ValueError, match='variant'):
        MultiscaleAdapter(dim=8, variant='E')


def test_lora_starts_as_sam_and_trains_only_low_rank_factors(tiny_sam, tiny_sam_checkpoint,
                                                             images):
    backbone = build_backbone(tiny_sam_checkpoint, adapter=None, lora=dict(rank=2, alpha=2))
    with torch.no_grad():
        assert (backbone(images)[0] - tiny_sam.image_encoder(images)).abs().max() <= 1e-4
    trainable = {n for n, p in backbone.named_parameters() if p.requires_grad}
    assert trainable == {f'blocks.{i}.attn.qkv.lora_{ab}' for i in range(4) for ab in 'AB'} | {
        'task_head.weight', 'task_head.bias'}
    backbone.train()
    backbone(images)[0].sum().backward()
    assert backbone.blocks[0].attn.qkv.lora_B.grad.abs().sum() > 0
    assert backbone.blocks[0].attn.qkv.weight.grad is None
