"""InputSizeCheckHook: a batch the encoder cannot take stops with the images and the fix."""
from types import SimpleNamespace

import pytest
import torch
from mmseg.structures import SegDataSample

from dadf_mm.engine import InputSizeCheckHook, InputSizeError


def batch(*sizes):
    return dict(inputs=[torch.zeros(3, h, w, dtype=torch.uint8) for h, w in sizes],
                data_samples=[SegDataSample(metainfo=dict(img_path=f'faces/{i}.png'))
                              for i in range(len(sizes))])


RUNNER = SimpleNamespace(model=SimpleNamespace(backbone=SimpleNamespace(img_size=128)))


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
