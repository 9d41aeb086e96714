"""What the benchmark tools and the fast-path tests measure: a DADF config's model and its
reference twin, random weights that exercise every part, a batch, and the steps to time.

* fast: the config's model as it is (its fast keys: ``noise.mode``, ``attn_impl``,
  ``compute_dtype``, ``grad_checkpointing``, ``compile``);
* reference: the same model with every fast key off: SAM's explicit attention
  (``segment_anything``'s formulation), float32, the clean and the noisy view as two
  encoder passes, no checkpointing, eager.
"""
import copy
from functools import partial
from typing import Callable, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.config import Config
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from ..models.utils.rga_fidelity import REFERENCE_BACKBONE_KEYS, REFERENCE_NOISE_KEYS
from ..models.utils.sam_checkpoint import SAM_ARCHS
from .memory_config import dadf_model_config

#: the backbone's fast keys, in the order :func:`describe_fast` names them
FAST_BACKBONE_KEYS = ('attn_impl', 'compute_dtype', 'tangent_dtype', 'grad_checkpointing',
                      'compile')
#: the backbone's defaults of those keys
FAST_BACKBONE_DEFAULTS = dict(attn_impl='sdpa', compute_dtype='float32', tangent_dtype=None,
                              grad_checkpointing=False, compile=False)
#: parameter names (parts) that start at zero: adapter outputs, RGA enhancer, SAM's
#: position tables
ZERO_INIT_PARTS = ('output_proj', 'enhancer', 'pos')


class NotADADFConfig(ValueError):
    """The config's model is not a DADF model."""


def benchmark_model_config(cfg: Config, *, img_size: Optional[int] = None,
                           arch: Union[str, dict, None] = None,
                           sam_checkpoint: Optional[str] = None) -> dict:
    """The config's DADF model, with another input size or arch if asked, and no SAM file
    unless given (random weights).

    Args:
        cfg (Config): A config whose ``model`` is a DADF.
        img_size (int, optional): Input side. Defaults to the config's.
        arch (str | dict, optional): SAM arch (``'vit_b'``...) or its spec. Defaults to the
            config's.
        sam_checkpoint (str, optional): An official SAM file. Defaults to None.

    Returns:
        dict: The model config.
    """
    if cfg.model.get('type') != 'DADF':
        raise NotADADFConfig(f"the benchmark tools measure DADF models; the config's model "
                             f"is {cfg.model.get('type')!r}")
    model = dadf_model_config(cfg, img_size=img_size)
    model['sam_checkpoint'] = sam_checkpoint
    if arch is not None:
        model['backbone']['arch'] = arch
    return model


def reference_config(model: dict) -> dict:
    """The same model config with every fast key off (see the module's docstring).

    Args:
        model (dict): A DADF model config (not changed).

    Returns:
        dict: A deep copy with the reference model and backbone keys set.
    """
    ref = copy.deepcopy(model)
    ref['noise'] = dict(ref.get('noise') or {}, **REFERENCE_NOISE_KEYS)
    ref['backbone'].update(REFERENCE_BACKBONE_KEYS)
    return ref


def activate_zero_init(model: torch.nn.Module, *, seed: int = 0, adapter_std: float = 0.02,
                       other_std: float = 0.02, parts: Sequence[str] = ZERO_INIT_PARTS,
                       zero_only: bool = True) -> torch.nn.Module:
    """Add small random values to the zero-initialised parameters, so that every part of
    the model changes the output and receives non-trivial gradients.

    Args:
        model (nn.Module): The model, changed in place.
        seed (int): Seed of the values. Defaults to 0.
        adapter_std (float): Std of the adapter outputs' values (``output_proj``); 0 keeps
            the adapters the identity, as at the start of training. Defaults to 0.02.
        other_std (float): Std of the other parts' values. Defaults to 0.02.
        parts (Sequence[str]): Parameters whose name contains one of these are changed.
            Defaults to :data:`ZERO_INIT_PARTS`.
        zero_only (bool): Change only parameters (not scalars) that are all zero. Defaults
            to True.

    Returns:
        nn.Module: ``model``.
    """
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if not any(part in name for part in parts):
                continue
            if zero_only and (param.dim() == 0 or param.abs().sum() != 0):
                continue
            std = adapter_std if 'output_proj' in name else other_std
            noise = torch.randn(param.shape, generator=gen, device='cpu')
            param.add_(std * noise.to(param))
    return model


def build_benchmark_model(model_cfg: dict, *, device: torch.device, seed: int,
                          checkpoint: Optional[str] = None,
                          adapter_std: float = 0.02) -> torch.nn.Module:
    """Build ``model_cfg`` on ``device`` with the seed's weights.

    Weights: a DADF checkpoint if given; else SAM's if the config names a SAM file; else
    random, with :func:`activate_zero_init`.

    Args:
        model_cfg (dict): A DADF model config.
        device (torch.device): Where the model is initialised and runs.
        seed (int): Seed of the random weights.
        checkpoint (str, optional): A trained DADF checkpoint. Defaults to None.
        adapter_std (float): See :func:`activate_zero_init`. Defaults to 0.02.

    Returns:
        nn.Module: The model on ``device``.
    """
    torch.manual_seed(seed)
    with torch.device(device):  # initialise where it runs (ViT-H on a CPU takes long)
        model = MODELS.build(copy.deepcopy(model_cfg))
    if model_cfg.get('sam_checkpoint'):
        model.init_weights()
    if checkpoint:
        from mmengine.runner import load_checkpoint

        from ..engine.safe_checkpoint_loading import allow_mmengine_checkpoints
        allow_mmengine_checkpoints()
        load_checkpoint(model, checkpoint, map_location='cpu', strict=False)
    elif not model_cfg.get('sam_checkpoint'):
        activate_zero_init(model, seed=seed, adapter_std=adapter_std)
    return model.to(device)


def sam_image_encoder(model_cfg: dict) -> torch.nn.Module:
    """``segment_anything``'s own ``ImageEncoderViT`` of the model config's arch and size.

    Args:
        model_cfg (dict): A DADF model config (its ``backbone`` is read).

    Returns:
        nn.Module: The encoder, with random weights.
    """
    from segment_anything.modeling import ImageEncoderViT
    backbone = model_cfg['backbone']
    arch = backbone.get('arch', 'vit_h')
    spec = SAM_ARCHS[arch] if isinstance(arch, str) else arch
    return ImageEncoderViT(
        depth=spec['depth'], embed_dim=spec['embed_dim'], img_size=backbone.get('img_size', 1024),
        mlp_ratio=4, norm_layer=partial(torch.nn.LayerNorm, eps=1e-6),
        num_heads=spec['num_heads'], patch_size=backbone.get('patch_size', 16), qkv_bias=True,
        use_rel_pos=True, global_attn_indexes=tuple(spec['global_attn_indexes']),
        window_size=backbone.get('window_size', 14), out_chans=256)


def make_batch(batch_size: int, img_size: int, *, device: torch.device, seed: int
               ) -> Tuple[torch.Tensor, List[SegDataSample]]:
    """Normalised-space random images and their samples: even ones real with empty masks,
    odd ones fake with a box.

    Args:
        batch_size (int): The number of images B.
        img_size (int): Their side S.
        device (torch.device): Where the tensors are put.
        seed (int): Seed of the random images.

    Returns:
        tuple[Tensor, list[SegDataSample]]: Inputs (B, 3, S, S) and samples, on ``device``.
    """
    gen = torch.Generator().manual_seed(seed)
    inputs = torch.randn(batch_size, 3, img_size, img_size, generator=gen).to(device)
    samples = []
    for i in range(batch_size):
        label = i % 2
        mask = torch.zeros(1, img_size, img_size, dtype=torch.long)
        if label:
            mask[:, img_size // 4:3 * img_size // 4, img_size // 3:2 * img_size // 3] = 1
        shape = (img_size, img_size)
        samples.append(SegDataSample(
            gt_sem_seg=PixelData(data=mask.to(device)),
            metainfo=dict(gt_label=label, img_path=f'benchmark_{i}.png', ori_shape=shape,
                          img_shape=shape, pad_shape=shape, padding_size=[0, 0, 0, 0])))
    return inputs, samples


def train_step(model: torch.nn.Module, inputs: torch.Tensor, samples: List[SegDataSample]
               ) -> Callable[[], None]:
    """One optimisation step: both views, all losses, backward, AdamW.

    Args:
        model (nn.Module): A DADF model.
        inputs (Tensor): Normalised images (B, 3, S, S).
        samples (list[SegDataSample]): Their samples, with labels and masks.

    Returns:
        Callable[[], None]: The step (its AdamW is made once, here).
    """
    params = [p for p in model.parameters() if p.requires_grad]
    optim = torch.optim.AdamW(params, lr=1e-5, weight_decay=0.01)

    def step() -> None:
        model.train()
        losses = model.loss(inputs, samples)
        sum(v for k, v in losses.items() if k.startswith('loss')).backward()
        optim.step()
        optim.zero_grad(set_to_none=True)
    return step


def infer_step(model: torch.nn.Module, inputs: torch.Tensor, samples: List[SegDataSample]
               ) -> Callable[[], None]:
    """``model.predict`` without gradients: both views, heads, resizing.

    Args:
        model (nn.Module): A DADF model.
        inputs (Tensor): Normalised images (B, 3, S, S).
        samples (list[SegDataSample]): Their samples.

    Returns:
        Callable[[], None]: The step.
    """
    def step() -> None:
        model.eval()
        with torch.no_grad():
            model.predict(inputs, samples)
    return step


def sam_encoder_step(encoder: torch.nn.Module, inputs: torch.Tensor, sigma: float
                     ) -> Callable[[], None]:
    """Two passes of a bare encoder without gradients: the clean and the noisy view.

    Args:
        encoder (nn.Module): An image encoder.
        inputs (Tensor): Normalised images (B, 3, S, S).
        sigma (float): The std of the noisy view's Gaussian noise.

    Returns:
        Callable[[], None]: The step.
    """
    def step() -> None:
        with torch.no_grad():
            encoder(inputs)
            encoder(inputs + sigma * torch.randn_like(inputs))
    return step


def arch_label(model_cfg: dict) -> str:
    """The arch's name, or ``'embed E, depth D'`` for a spec.

    Args:
        model_cfg (dict): A DADF model config.

    Returns:
        str: The label.
    """
    arch = model_cfg['backbone'].get('arch', 'vit_h')
    if isinstance(arch, str):
        return arch
    return f"embed {arch['embed_dim']}, depth {arch['depth']}"


def describe_fast(model_cfg: dict) -> str:
    """The model config's fast keys as ``'noise.mode=..., attn_impl=..., ...'``.

    Args:
        model_cfg (dict): A DADF model config.

    Returns:
        str: The keys with their values (defaults where the config leaves them out).
    """
    backbone = model_cfg['backbone']
    keys = [f"noise.mode={(model_cfg.get('noise') or {}).get('mode', 'batched')}"]
    keys += [f'{k}={backbone.get(k, FAST_BACKBONE_DEFAULTS[k])}' for k in FAST_BACKBONE_KEYS]
    return ', '.join(keys)
