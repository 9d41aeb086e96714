"""The memory of one step of a DADF config, as ``tools/train.py`` / ``tools/test.py`` run
it: the model built on meta from the config, its optimizer, a batch of the config's size,
and (in training) what the config's hooks add to the step (:func:`estimate_config_memory`).
"""
import copy
import logging
from contextlib import contextmanager
from typing import Any, Callable, Iterator, List, Optional, Tuple, Union

import torch
from torch import nn

from ..models.utils import adapter_gradient_share
from .memory_estimate import MemoryEstimate, estimate_step_memory

DIAGNOSTICS_HOOK = 'RGADiagnosticsHook'

def _config(cfg: Union[str, Any]) -> Any:
    from mmengine.config import Config
    return Config.fromfile(cfg) if isinstance(cfg, str) else cfg


def dadf_model_config(cfg: Any, *, img_size: Optional[int] = None) -> dict:
    """The config's model, with no SAM file (nothing is read) and, if given, another size.

    Args:
        cfg (Config): A loaded DADF config (not changed).
        img_size (int, optional): Another input side, set on the backbone and the data
            preprocessor. Defaults to None.

    Returns:
        dict: A deep copy of ``cfg.model`` with ``sam_checkpoint=None``.
    """
    model = copy.deepcopy(cfg.model.to_dict() if hasattr(cfg.model, 'to_dict') else cfg.model)
    model['sam_checkpoint'] = None
    if img_size is not None:
        model['backbone']['img_size'] = img_size
        if model.get('data_preprocessor'):
            model['data_preprocessor']['size'] = (img_size, img_size)
    return model


def config_img_size(model_cfg: dict) -> int:
    """Input side of a model config: the backbone's ``img_size``, else the preprocessor's.

    Args:
        model_cfg (dict): A DADF model config.

    Returns:
        int: The side in pixels (1024 when neither sets it).
    """
    size = model_cfg.get('backbone', {}).get('img_size')
    if size is None:
        size = (model_cfg.get('data_preprocessor') or {}).get('size', (1024, 1024))[0]
    return int(size)


def meta_batch(batch_size: int, img_size: int, device: Union[str, torch.device] = 'meta'
               ) -> Tuple[torch.Tensor, list]:
    """Inputs (B, 3, S, S) float32 and ``SegDataSample``s with a (1, S, S) long mask and
    ``gt_label`` alternating 0 / 1, on ``device`` (meta: no memory).

    Args:
        batch_size (int): The number of images B.
        img_size (int): Their side S.
        device (str | torch.device): Where the tensors are made. Defaults to 'meta'.

    Returns:
        tuple[Tensor, list[SegDataSample]]: The inputs and their samples.
    """
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    inputs = torch.zeros(batch_size, 3, img_size, img_size, device=device)
    shape = (img_size, img_size)
    samples = []
    for i in range(batch_size):
        mask = torch.zeros(1, img_size, img_size, dtype=torch.long, device=device)
        samples.append(SegDataSample(
            gt_sem_seg=PixelData(data=mask),
            metainfo=dict(gt_label=i % 2, img_shape=shape, ori_shape=shape, pad_shape=shape,
                          padding_size=[0, 0, 0, 0])))
    return inputs, samples


def build_optimizer(model: nn.Module, optim_wrapper_cfg: Optional[dict], *, target: str,
                    notes: List[str]) -> torch.optim.Optimizer:
    """The optimizer mmengine would build for the config (AdamW if it names none).

    ``AmpOptimWrapper`` refuses to be built without a GPU; its optimizer is the same, so
    the plain wrapper is built instead (the loss scaler's state is a few scalars). When the
    config does not choose ``foreach``, the target's default is set: the multi-tensor
    implementation on CUDA (with its temporaries), the per-tensor loop on a CPU.

    Args:
        model (nn.Module): The model whose parameters it optimises.
        optim_wrapper_cfg (dict, optional): The config's ``optim_wrapper``; None for AdamW
            (lr 1e-4, weight decay 0.01).
        target (str): ``'cuda'`` or ``'cpu'``, for the ``foreach`` default.
        notes (list[str]): Receives a line for each substitution made.

    Returns:
        torch.optim.Optimizer: The optimizer (not its wrapper).
    """
    from mmengine.optim import build_optim_wrapper
    cfg = copy.deepcopy(dict(optim_wrapper_cfg or dict(
        type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.01))))
    if cfg.get('type', 'OptimWrapper') != 'OptimWrapper':
        notes.append(f"optim_wrapper type {cfg['type']!r} built as 'OptimWrapper' "
                     '(same optimizer; no GPU needed)')
        cfg = dict(type='OptimWrapper', optimizer=cfg['optimizer'],
                   **{k: v for k, v in cfg.items()
                      if k in ('paramwise_cfg', 'constructor', 'clip_grad')})
    with _quiet_mmengine():  # it logs a line for every frozen parameter
        optimizer = build_optim_wrapper(model, cfg).optimizer
    for group in optimizer.param_groups:
        if group.get('foreach') is None and 'foreach' in group:
            group['foreach'] = target == 'cuda'
    return optimizer


@contextmanager
def _quiet_mmengine() -> Iterator[None]:
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def config_grad_share(cfg: Any) -> bool:
    """Whether the config's ``RGADiagnosticsHook`` measures ``rga_rec_grad_share``
    (``grad_share=True`` with an ``interval``): then the first training step, a logging
    step, runs two extra backward passes, whose memory the allocator keeps for the run.

    Args:
        cfg (Config): A loaded config.

    Returns:
        bool: True when the hook measures the gradient share.
    """
    for hook in cfg.get('custom_hooks') or []:
        if (isinstance(hook, dict) and hook.get('type') == DIAGNOSTICS_HOOK
                and hook.get('grad_share', False) and hook.get('interval', 50)):
            return True
    return False


def estimate_config_memory(cfg: Union[str, Any],
                           *,
                           batch_size: Optional[int] = None,
                           img_size: Optional[int] = None,
                           mode: str = 'train',
                           target: str = 'cuda',
                           distributed: bool = False,
                           grad_share: Optional[bool] = None,
                           progress: Optional[Callable[[str], None]] = None
                           ) -> MemoryEstimate:
    """Estimate one step of a DADF config as ``tools/train.py`` / ``tools/test.py`` run it.

    The model is built on meta with ``sam_checkpoint=None``; training calls
    ``model.loss(inputs, data_samples)``, ``backward`` of ``model.parse_losses`` and the
    config's optimizer; inference calls ``model.predict``. With RGA's gradient share
    (:func:`config_grad_share`) the training step also runs its two backward passes.

    Args:
        cfg (str | Config): a config file or a loaded mmengine ``Config``.
        batch_size (int, optional): images per step; None for the train dataloader's.
            Defaults to None.
        img_size (int, optional): input side; overrides ``model.backbone.img_size`` and
            ``model.data_preprocessor.size``. Defaults to None.
        mode (str): ``'train'`` or ``'infer'``. Defaults to 'train'.
        target (str): ``'cuda'`` or ``'cpu'``. Defaults to 'cuda'.
        distributed (bool): one process of a DDP run (its gradient buckets counted).
            Defaults to False.
        grad_share (bool, optional): count ``RGADiagnosticsHook``'s gradient share;
            None as the config says (:func:`config_grad_share`). Defaults to None.
        progress (Callable[[str], None], optional): called with a line per stage.
            Defaults to None.

    Returns:
        MemoryEstimate: the breakdown, ``description`` naming the config's keys.
    """
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules

    import dadf_mm  # noqa: F401  (registers DADF's modules)
    register_all_modules(init_default_scope=False)
    cfg = _config(cfg)
    model_cfg = dadf_model_config(cfg, img_size=img_size)
    size = config_img_size(model_cfg)
    if batch_size is None:
        batch_size = int(cfg.get('train_dataloader', {}).get('batch_size', 1))
    say = progress or (lambda line: None)
    say(f'building the model on meta ({mode}, batch {batch_size}, {size} px)')
    with DefaultScope.overwrite_default_scope('mmseg'), torch.device('meta'):
        model = MODELS.build(model_cfg)
    notes: List[str] = []
    noise = getattr(model, 'noise', None)
    if getattr(noise, 'generator', None) == 'device':
        # torch.Generator(device='meta') does not exist; drawing on the CPU and copying
        # makes the same (B, 3, S, S) tensor on the device, less the per-image draws
        noise.generator = 'cpu'
        notes.append("noise generator='device' estimated as 'cpu' (a meta tensor has no "
                     'random generator): the per-image noise draws on the device, '
                     f'{batch_size} x 3 x {size} x {size} float32, are not counted')
    optimizer = None
    if mode == 'train':
        optimizer = build_optimizer(model, cfg.get('optim_wrapper'), target=target, notes=notes)
    inputs, samples = meta_batch(batch_size, size)

    if grad_share is None:
        grad_share = config_grad_share(cfg)
    if grad_share and mode == 'train':
        notes.append('RGADiagnosticsHook(grad_share=True): the first step, a logging step, '
                     'runs two extra backward passes for rga_rec_grad_share (counted)')

    def train_step() -> torch.Tensor:
        losses = model.loss(inputs, samples)
        if grad_share:
            adapter_gradient_share(model, losses)
        loss, _ = model.parse_losses(losses)
        return loss

    def infer_step() -> Any:
        return model.predict(inputs, samples)

    backbone = model_cfg.get('backbone', {})
    description = dict(
        config=getattr(cfg, 'filename', None) or '<config>', batch_size=batch_size,
        img_size=size, arch=backbone.get('arch', 'vit_h') if isinstance(
            backbone.get('arch', 'vit_h'), str) else 'custom',
        attn_impl=backbone.get('attn_impl', 'sdpa'),
        compute_dtype=backbone.get('compute_dtype', 'float32'),
        grad_checkpointing=backbone.get('grad_checkpointing', False),
        noise_mode=(model_cfg.get('noise') or {}).get('mode', 'batched'),
        rga_grad_share=bool(grad_share and mode == 'train'))
    say('running one step on meta')
    estimate = estimate_step_memory(
        model, train_step if mode == 'train' else infer_step, mode=mode,
        optimizer=optimizer, inputs=(inputs, samples), target=target,
        distributed=distributed, description=description)
    estimate.notes = notes + estimate.notes
    return estimate
