import pytest
import torch

from .sam_reference import TINY_ARCH, TINY_SIZE, TINY_WINDOW, build_reference_sam, save_state_dict


@pytest.fixture(scope='session')
def tiny_sam():
    return build_reference_sam(**TINY_ARCH, img_size=TINY_SIZE, window_size=TINY_WINDOW)


@pytest.fixture(scope='session')
def tiny_sam_checkpoint(tiny_sam, tmp_path_factory):
    return save_state_dict(tiny_sam, str(tmp_path_factory.mktemp('sam') / 'sam_tiny.pth'))


def tiny_backbone_cfg(**overrides) -> dict:
    cfg = dict(type='SAMViT', arch=dict(TINY_ARCH), img_size=TINY_SIZE, window_size=TINY_WINDOW,
               adapter=dict(variant='A', inner_channels=32))
    cfg.update(overrides)
    return cfg


def tiny_dadf_cfg(checkpoint=None, **overrides) -> dict:
    cfg = dict(
        type='DADF',
        sam_checkpoint=checkpoint,
        data_preprocessor=dict(type='SegDataPreProcessor', mean=[123.675, 116.28, 103.53],
                               std=[58.395, 57.12, 57.375], bgr_to_rgb=True, pad_val=0,
                               seg_pad_val=255, size=(TINY_SIZE, TINY_SIZE)),
        backbone=tiny_backbone_cfg(),
        neck=dict(type='RGANeck'),
        decode_head=dict(type='SAMMaskDecoderHead'),
        test_cfg=dict(mode='whole'))
    cfg.update(overrides)
    return cfg


@pytest.fixture
def images():
    torch.manual_seed(1)
    return torch.randn(2, 3, TINY_SIZE, TINY_SIZE)
