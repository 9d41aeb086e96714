"""Tiny DADF models and batches on the reference SAM's architecture (CPU-sized)."""
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from dadf_mm.analysis.benchmark_cases import activate_zero_init

from .sam_reference import TINY_ARCH, TINY_SIZE, TINY_WINDOW

#: move the adapter outputs and RGA's enhancer off their initialisation (all of their
#: parameters), so that the adapters and RGA change the output and receive non-trivial
#: gradients; SAM's position tables come from the checkpoint
ACTIVATED_PARTS = ('output_proj', 'enhancer')


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


def activate(model: torch.nn.Module, std: float = 0.02) -> torch.nn.Module:
    """``model`` with its adapter outputs and RGA enhancer moved off zero (seed 0)."""
    return activate_zero_init(model, adapter_std=std, other_std=std, parts=ACTIVATED_PARTS,
                              zero_only=False)


def batch(n=2, labels=(0, 1)):
    """Normalised-space inputs and samples: real images with empty masks, fakes with a box."""
    torch.manual_seed(0)
    inputs = torch.randn(n, 3, TINY_SIZE, TINY_SIZE)
    samples = []
    for i in range(n):
        label = labels[i % len(labels)]
        mask = torch.zeros(1, TINY_SIZE, TINY_SIZE, dtype=torch.long)
        if label:
            mask[:, 32:96, 40:100] = 1
        shape = (TINY_SIZE, TINY_SIZE)
        samples.append(SegDataSample(
            gt_sem_seg=PixelData(data=mask),
            metainfo=dict(gt_label=label, img_path=f'img_{i}.png', ori_shape=shape,
                          img_shape=shape, pad_shape=shape, padding_size=[0, 0, 0, 0])))
    return inputs, samples


def hooked_train_steps(model, wrapper, hook, *, iters, start=0, inputs=None, samples=None):
    """``iters`` training steps of ``model`` as mmengine's loop runs them (the segmentor
    called with ``mode='loss'``), with ``hook``'s ``before_train_iter`` and
    ``after_train_iter`` around each, iterations counted from ``start``.

    Returns:
        tuple[list[float], list[dict]]: each step's total loss, and the ``train/*``
        scalars the hook put into the message hub at that step (prefix removed).
    """
    from types import SimpleNamespace

    from mmengine.logging import MessageHub
    if inputs is None:
        inputs, samples = batch()
    hub = MessageHub(name=f'hooked_train_steps_{id(hook)}')
    losses, logged = [], []
    for i in range(start, start + iters):
        runner = SimpleNamespace(model=model, iter=i, message_hub=hub)
        before = {k: len(v.data[0]) for k, v in hub.log_scalars.items()}
        hook.before_train_iter(runner, i)
        loss, _ = model.parse_losses(model.train()(inputs, samples, mode='loss'))
        wrapper.update_params(loss)
        hook.after_train_iter(runner, i)
        losses.append(float(loss))
        logged.append({k[len('train/'):]: v.current() for k, v in hub.log_scalars.items()
                       if len(v.data[0]) != before.get(k, 0)})
    return losses, logged
