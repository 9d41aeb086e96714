"""InputSizeCheckHook: a batch SAM's encoder cannot take stops with the images and the fix;
other backbones (a pair as img_size, or none) pass unchecked; the base runtime config holds
the hook, so mmseg's own tools/train.py runs it too."""
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
from mmseg.structures import SegDataSample

from dadf_mm.engine import InputSizeCheckHook, InputSizeError

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def batch(*sizes):
    return dict(inputs=[torch.zeros(3, h, w, dtype=torch.uint8) for h, w in sizes],
                data_samples=[SegDataSample(metainfo=dict(img_path=f'faces/{i}.png'))
                              for i in range(len(sizes))])


class SAMViT:
    """Stands in for dadf_mm's SAMViT (the hook reads the class name and img_size)."""

    def __init__(self, img_size):
        self.img_size = img_size


def runner_with(backbone) -> SimpleNamespace:
    return SimpleNamespace(model=SimpleNamespace(backbone=backbone))


RUNNER = runner_with(SAMViT(128))


def test_mixed_sizes_in_an_evaluation_batch_name_the_images():
    """Was mmseg's "The image size in a batch should be the same." without a file."""
    with pytest.raises(InputSizeError) as err:
        InputSizeCheckHook().before_test_iter(RUNNER, 0, batch((128, 128), (96, 120)))
    message = str(err.value)
    for words in ('test_dataloader: faces/1.png (120x96)', "model's input size 128x128",
                  "dict(type='Resize', scale=(128, 128), keep_ratio=False)",
                  'test_dataloader.dataset.pipeline'):
        assert words in message, message
    assert 'faces/0.png' not in message


def test_training_pads_smaller_images_and_refuses_larger_ones():
    hook = InputSizeCheckHook()
    hook.before_train_iter(RUNNER, 0, batch((128, 128), (100, 90)))  # padded to 128 by mmseg
    hook.before_val_iter(RUNNER, 0, batch((128, 128), (128, 128)))
    with pytest.raises(InputSizeError, match=r'train_dataloader: faces/1.png \(160x128\)'):
        hook.before_train_iter(RUNNER, 0, batch((128, 128), (128, 160)))


def test_a_pair_as_img_size_is_read_as_height_and_width():
    """Was: TypeError "'>' not supported between instances of 'int' and 'tuple'"."""
    hook = InputSizeCheckHook()
    runner = runner_with(SAMViT((96, 128)))
    hook.before_train_iter(runner, 0, batch((96, 128), (90, 100)))
    with pytest.raises(InputSizeError, match=r'faces/0.png \(128x128\) not of the model.s '
                       r'input size 128x96 .*scale=\(128, 96\)'):
        hook.before_val_iter(runner, 0, batch((128, 128)))


def test_a_stock_mmseg_backbone_is_not_checked():
    """mmseg's VisionTransformer (img_size a pair) resizes its position embedding to any
    input: the hook says nothing, whatever the sizes; so for a backbone without img_size."""
    from mmseg.models.backbones import ResNetV1c, VisionTransformer
    vit = VisionTransformer(img_size=(64, 64), patch_size=16, embed_dims=32, num_layers=1,
                            num_heads=2, out_indices=(0, ))
    assert vit.img_size == (64, 64)
    hook = InputSizeCheckHook()
    for backbone in (vit, ResNetV1c(depth=18)):
        runner = runner_with(backbone)
        hook.before_train_iter(runner, 0, batch((64, 64), (96, 128)))
        hook.before_test_iter(runner, 0, batch((64, 64), (32, 48)))
    output = vit(torch.zeros(1, 3, 96, 128))  # what the hook let through does run
    assert output[0].shape[-2:] == (6, 8)


def test_the_base_runtime_config_holds_the_hook_once():
    """In the config, not added by tools/tool_setup.py: mmseg's tools/train.py runs it too."""
    import argparse

    from mmengine.config import Config

    from tools.tool_setup import load_config
    demo = osp.join(ROOT, 'configs', 'dadf', 'dadf_sam-tiny_synthetic-demo.py')
    hooks = [h['type'] for h in Config.fromfile(demo).custom_hooks]
    assert hooks.count('InputSizeCheckHook') == 1, hooks
    args = argparse.Namespace(config=demo, work_dir='unused', launcher='none', local_rank=0,
                              allow_new_keys=False, cfg_options={})
    hooks = [h['type'] for h in load_config(args, 'train.py').custom_hooks]
    assert hooks.count('InputSizeCheckHook') == 1, hooks
