"""Reading official SAM checkpoints safely, by path, as they are.

``sam_vit_b_01ec64.pth``, ``sam_vit_l_0b3195.pth`` and ``sam_vit_h_4b8939.pth`` are plain
state dicts whose keys start with ``image_encoder.``, ``prompt_encoder.`` and
``mask_decoder.``. They are read with ``torch.load(weights_only=True)``: a file that needs
arbitrary unpickling is refused, never executed. When the model's input size is not
SAM's 1024, the absolute position embedding is resized bicubically and the relative
position tables of the global-attention blocks linearly (the resize SAM itself applies
at run time).
"""
import os
import re
from typing import Dict, Iterable, Mapping, Tuple

import torch
import torch.nn.functional as F

from ...engine.checkpoint_files import describe_load_error, first_non_finite
from ..layers.attention import resize_rel_pos

#: SAM image-encoder architectures (all: patch 16, window 14, 1024 px, neck to 256).
SAM_ARCHS: Dict[str, dict] = {
    'vit_b': dict(embed_dim=768, depth=12, num_heads=12, global_attn_indexes=(2, 5, 8, 11)),
    'vit_l': dict(embed_dim=1024, depth=24, num_heads=16, global_attn_indexes=(5, 11, 17, 23)),
    'vit_h': dict(embed_dim=1280, depth=32, num_heads=16, global_attn_indexes=(7, 15, 23, 31)),
}
SAM_PREFIXES = ('image_encoder.', 'prompt_encoder.', 'mask_decoder.')


class SAMCheckpointError(RuntimeError):
    """A SAM checkpoint that is missing, unreadable or of another architecture."""


def load_sam_checkpoint(path: str) -> Dict[str, torch.Tensor]:
    """Read a SAM state dict from ``path`` with ``weights_only=True``.

    Args:
        path (str): The checkpoint file.

    Returns:
        dict[str, Tensor]: The state dict (unwrapped from ``state_dict`` / ``model``), on
        the CPU.

    Raises:
        SAMCheckpointError: The file is missing, unreadable or holds no SAM keys.
    """
    if not os.path.isfile(path):
        raise SAMCheckpointError(
            f'SAM checkpoint not found: {path!r}. Fetch the official files into '
            'checkpoints/ with python tools/download_sam_checkpoints.py (or one arch: '
            'vit_b, vit_l, vit_h), or point model.sam_checkpoint at a copy '
            '(--cfg-options model.sam_checkpoint=PATH).')
    try:
        state = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as err:  # empty, truncated, a refused pickle, not a torch file ...
        # one line naming the file and which of these it is (the official files are
        # sam_vit_b 375 MB, sam_vit_l 1.25 GB, sam_vit_h 2.56 GB)
        raise SAMCheckpointError(f'SAM checkpoint: {describe_load_error(path, err)}') from err
    for wrapper in ('state_dict', 'model'):
        if isinstance(state, Mapping) and wrapper in state and isinstance(state[wrapper], Mapping):
            state = state[wrapper]
    if not isinstance(state, Mapping) or not any(
            k.startswith(SAM_PREFIXES) for k in state):
        raise SAMCheckpointError(
            f'{path!r} is not a SAM checkpoint: no key starts with {SAM_PREFIXES}. '
            'Use the official sam_vit_{b,l,h}_*.pth files, or a state dict of '
            "segment_anything's Sam model.")
    bad = first_non_finite(dict(state))
    if bad is not None:
        raise SAMCheckpointError(
            f'SAM checkpoint {path!r} holds NaN or Inf values (first in {bad}): it is not '
            'the published file; fetch it again with python tools/download_sam_checkpoints.py')
    return dict(state)


def sub_state_dict(state: Mapping[str, torch.Tensor], prefix: str) -> Dict[str, torch.Tensor]:
    """The entries of ``state`` under ``prefix``, with the prefix removed.

    Args:
        state (Mapping[str, Tensor]): A state dict.
        prefix (str): E.g. ``'image_encoder.'``.

    Returns:
        dict[str, Tensor]: The entries under ``prefix``.
    """
    return {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}


def describe_encoder(state: Mapping[str, torch.Tensor]) -> str:
    """A short guess of which SAM arch an image-encoder state dict holds.

    Args:
        state (Mapping[str, Tensor]): An image-encoder state dict.

    Returns:
        str: E.g. ``'vit_b (width 768, depth 12)'``, ``'custom (...)'`` or
        ``'no image encoder'``.
    """
    if 'pos_embed' not in state and 'patch_embed.proj.weight' not in state:
        return 'no image encoder'
    width = state['patch_embed.proj.weight'].shape[0]
    depth = len({k.split('.')[1] for k in state if k.startswith('blocks.')})
    named = [n for n, a in SAM_ARCHS.items() if a['embed_dim'] == width and a['depth'] == depth]
    return f"{named[0] if named else 'custom'} (width {width}, depth {depth})"


def _natural(key: str) -> list:
    """Sort key that puts ``blocks.4`` before ``blocks.10``."""
    return [int(t) if t.isdigit() else t for t in re.split(r'(\d+)', key)]


def check_state_dict(*, expected: Mapping[str, torch.Size], found: Mapping[str, torch.Tensor],
                     resizable: Iterable[str], path: str, part: str, arch: str) -> None:
    """Raise one clear error when ``found`` does not match the model's ``expected`` shapes.

    Args:
        expected (Mapping[str, torch.Size]): The model's keys and shapes.
        found (Mapping[str, Tensor]): The checkpoint's entries for that part.
        resizable (Iterable[str]): Keys whose shapes may differ (resized on loading).
        path (str): The checkpoint, for the message.
        part (str): The model part, e.g. ``'image encoder'``, for the message.
        arch (str): The configured arch, e.g. ``'vit_h'``, for the message.

    Raises:
        SAMCheckpointError: Missing or unexpected keys, or a shape that differs.
    """
    resizable = set(resizable)
    missing = sorted(set(expected) - set(found), key=_natural)
    unexpected = sorted(set(found) - set(expected), key=_natural)
    wrong = sorted(
        f'{k}: file {tuple(found[k].shape)} vs model {tuple(expected[k])}'
        for k in set(expected) & set(found)
        if k not in resizable and tuple(found[k].shape) != tuple(expected[k]))
    wrong.sort(key=_natural)
    if not (missing or unexpected or wrong):
        return

    def head(items: list) -> str:
        return ', '.join(items[:6]) + (f' ... (+{len(items) - 6} more)' if len(items) > 6 else '')

    lines = [f'SAM checkpoint {path!r} does not match the {part} of arch {arch!r}.']
    if part == 'image encoder':
        lines.append(f'The file holds {describe_encoder(found)}.')
    if missing:
        lines.append(f'missing keys ({len(missing)}): {head(missing)}')
    if unexpected:
        lines.append(f'unexpected keys ({len(unexpected)}): {head(unexpected)}')
    if wrong:
        lines.append(f'shape mismatches ({len(wrong)}): {head(wrong)}')
    lines.append("Fix: set the backbone's arch to the file's ('vit_b', 'vit_l', 'vit_h') or "
                 'use the checkpoint of the configured arch.')
    raise SAMCheckpointError('\n'.join(lines))


def resize_pos_embed(pos_embed: torch.Tensor, grid: Tuple[int, int]) -> torch.Tensor:
    """Bicubically resize SAM's (1, H, W, C) absolute position embedding to ``grid``.

    Args:
        pos_embed (Tensor): The embedding (1, H, W, C).
        grid (tuple[int, int]): The new size (H', W').

    Returns:
        Tensor: The embedding (1, H', W', C) in its dtype (``pos_embed`` itself when the
        size already fits).
    """
    if tuple(pos_embed.shape[1:3]) == tuple(grid):
        return pos_embed
    resized = F.interpolate(pos_embed.permute(0, 3, 1, 2).float(), size=grid, mode='bicubic',
                            align_corners=False)
    return resized.permute(0, 2, 3, 1).to(pos_embed.dtype)


def fit_encoder_state_dict(state: Mapping[str, torch.Tensor],
                           expected: Mapping[str, torch.Size]) -> Dict[str, torch.Tensor]:
    """Resize position embeddings of ``state`` to the shapes the model ``expected``.

    Args:
        state (Mapping[str, Tensor]): An image-encoder state dict.
        expected (Mapping[str, torch.Size]): The model's keys and shapes.

    Returns:
        dict[str, Tensor]: A copy of ``state`` with ``pos_embed`` and the relative position
        tables resized where their shapes differ.
    """
    out = dict(state)
    for key, value in state.items():
        if key not in expected or tuple(value.shape) == tuple(expected[key]):
            continue
        if key == 'pos_embed':
            out[key] = resize_pos_embed(value, tuple(expected[key][1:3]))
        elif key.endswith(('rel_pos_h', 'rel_pos_w')):
            out[key] = resize_rel_pos(value.float(), expected[key][0]).to(value.dtype)
    return out
