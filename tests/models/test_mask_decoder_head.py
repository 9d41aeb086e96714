"""The decode head against segment_anything's prompt encoder + mask decoder."""
import pytest
import torch
from mmseg.registry import MODELS

import dadf_mm  # noqa: F401
from dadf_mm.models.utils.sam_checkpoint import load_sam_checkpoint, sub_state_dict
from tests.helpers.sam_reference import TINY_SIZE


def build_head(checkpoint, **kwargs):
    head = MODELS.build(dict(type='SAMMaskDecoderHead', **kwargs))
    state = load_sam_checkpoint(checkpoint)
    head.load_sam_weights(sub_state_dict(state, 'prompt_encoder.'),
                          sub_state_dict(state, 'mask_decoder.'), source=checkpoint)
    return head.eval()


def test_mask_logits_equal_sam_prompt_free_output(tiny_sam, tiny_sam_checkpoint):
    head = build_head(tiny_sam_checkpoint)
    grid = TINY_SIZE // 16
    torch.manual_seed(2)
    embeddings = torch.randn(3, 256, grid, grid)
    with torch.no_grad():
        ours, cls_logits = head(embeddings)
        ref = []
        for i in range(3):  # SAM decodes one image at a time
            sparse, dense = tiny_sam.prompt_encoder(points=None, boxes=None, masks=None)
            masks, _ = tiny_sam.mask_decoder(
                image_embeddings=embeddings[i:i + 1],
                image_pe=tiny_sam.prompt_encoder.get_dense_pe(),
                sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense,
                multimask_output=False)
            ref.append(masks)
    ref = torch.cat(ref)
    assert ours.shape == ref.shape == (3, 1, 4 * grid, 4 * grid)
    assert (ours - ref).abs().max().item() <= 1e-4
    assert cls_logits.shape == (3, )


def test_classification_inputs_and_switch_off(tiny_sam_checkpoint):
    x = torch.randn(2, 256, 8, 8)
    for cls_in in ('gated_embedding', 'mask', 'feature'):
        _, logits = build_head(tiny_sam_checkpoint, cls_in=cls_in)(x)
        assert logits.shape == (2, )
    head = build_head(tiny_sam_checkpoint, with_cls=False)
    assert head.cls_branch is None and head(x)[1] is None


@pytest.mark.parametrize('size', [(8, 8), (5, 7)])
def test_image_pe_equals_sams_and_follows_the_dtype(size):
    head = MODELS.build(dict(type='SAMMaskDecoderHead'))
    assert torch.equal(head.image_pe(*size), head.pe_layer(size))
    head.double()
    assert head.image_pe(*size).dtype == torch.float64
    torch.testing.assert_close(head.image_pe(*size).float(), head.float().pe_layer(size))
