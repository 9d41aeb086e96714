"""Loading SAM checkpoints: errors a user can act on, and no code execution."""
import os

import pytest
import torch
from mmseg.registry import MODELS

import dadf_mm  # noqa: F401
from dadf_mm.models.utils.sam_checkpoint import (
    SAMCheckpointError,
    load_sam_checkpoint,
    sub_state_dict,
)
from tests.helpers.model_cases import tiny_dadf_cfg


def test_missing_file_names_the_file_and_the_fix(tmp_path):
    path = str(tmp_path / 'checkpoints' / 'sam_vit_h_4b8939.pth')
    with pytest.raises(SAMCheckpointError) as err:
        load_sam_checkpoint(path)
    assert path in str(err.value) and 'model.sam_checkpoint' in str(err.value)


def test_truncated_file(tiny_sam_checkpoint, tmp_path):
    data = open(tiny_sam_checkpoint, 'rb').read()
    path = tmp_path / 'truncated.pth'
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(SAMCheckpointError, match='truncated') as err:
        load_sam_checkpoint(str(path))
    assert str(path) in str(err.value)


def test_not_a_sam_state_dict(tmp_path):
    path = str(tmp_path / 'resnet.pth')
    torch.save({'conv1.weight': torch.zeros(2)}, path)
    with pytest.raises(SAMCheckpointError, match='not a SAM checkpoint'):
        load_sam_checkpoint(path)


class _Payload:
    def __reduce__(self):
        return (os.system, (f'touch {_Payload.marker}', ))


def test_a_pickle_that_runs_code_is_refused_and_not_run(tmp_path):
    _Payload.marker = str(tmp_path / 'executed')
    path = str(tmp_path / 'evil.pth')
    torch.save({'image_encoder.pos_embed': _Payload()}, path)
    with pytest.raises(SAMCheckpointError):
        load_sam_checkpoint(path)
    assert not os.path.exists(_Payload.marker)


def test_wrong_arch_lists_arch_and_keys(tiny_sam_checkpoint):
    with torch.device('meta'):
        backbone = MODELS.build(dict(type='SAMViT', arch='vit_l', img_size=1024, adapter=None))
    state = sub_state_dict(load_sam_checkpoint(tiny_sam_checkpoint), 'image_encoder.')
    with pytest.raises(SAMCheckpointError) as err:
        backbone.load_sam_weights(state, source=tiny_sam_checkpoint)
    msg = str(err.value)
    assert tiny_sam_checkpoint in msg
    assert "'vit_l'" in msg
    assert 'width 64, depth 4' in msg
    assert 'missing keys (' in msg and 'blocks.4.' in msg
    assert 'blocks.0.attn.proj.weight: file (64, 64) vs model (1024, 1024)' in msg


def test_segmentor_loads_checkpoint_in_init_weights(tiny_sam, tiny_sam_checkpoint):
    model = MODELS.build(tiny_dadf_cfg(tiny_sam_checkpoint))
    before = model.backbone.blocks[0].attn.qkv.weight.clone()
    model.init_weights()
    loaded = model.backbone.blocks[0].attn.qkv.weight
    assert not torch.equal(before, loaded)
    assert torch.equal(loaded, tiny_sam.image_encoder.blocks[0].attn.qkv.weight)
    assert torch.equal(model.decode_head.no_mask_embed.weight,
                       tiny_sam.prompt_encoder.no_mask_embed.weight)
    assert torch.equal(model.decode_head.pe_layer.positional_encoding_gaussian_matrix,
                       tiny_sam.prompt_encoder.pe_layer.positional_encoding_gaussian_matrix)


def test_segmentor_with_a_missing_checkpoint_fails_at_init_weights(tmp_path):
    model = MODELS.build(tiny_dadf_cfg(str(tmp_path / 'nope.pth')))
    with pytest.raises(SAMCheckpointError, match='nope.pth'):
        model.init_weights()
