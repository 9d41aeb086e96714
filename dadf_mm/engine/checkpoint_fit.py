"""Refuse a checkpoint that does not hold this model's weights.

mmengine's ``load_checkpoint`` is non-strict: a file of another model (an official SAM
checkpoint, a DADF of another size) loads with a "missing keys" log line and the model
is evaluated from its random initialisation, and a resumed run of another model (another
neck, another adapter width) fails deep inside the optimizer. Testing and inference check
the file first; training checks what ``load_from`` and ``--resume`` load
(:class:`~.checkpoint_fit_hook.CheckpointFitHook`).
"""
import re
from typing import Any, Dict, List, Mapping, Optional

import torch
from torch import nn

from .checkpoint_files import CheckpointFileError, read_checkpoint

SAM_PREFIXES = ('image_encoder.', 'prompt_encoder.', 'mask_decoder.')


def checkpoint_state_dict(checkpoint: Any) -> Dict[str, torch.Tensor]:
    """The weights of a checkpoint as mmengine's ``load_checkpoint`` finds them: under
    ``state_dict`` (or ``model``) if present, with a DDP ``module.`` prefix removed.

    Args:
        checkpoint (Any): What the checkpoint file holds.

    Returns:
        dict[str, Tensor]: Key -> tensor (entries that are no tensor are dropped; empty
        when the checkpoint holds no mapping).
    """
    state = checkpoint
    for wrapper in ('state_dict', 'model'):
        if isinstance(state, Mapping) and isinstance(state.get(wrapper), Mapping):
            state = state[wrapper]
            break
    if not isinstance(state, Mapping):
        return {}
    return {re.sub(r'^module\.', '', str(k)): v for k, v in state.items()
            if isinstance(v, torch.Tensor)}


def _natural(key: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r'(\d+)', key)]


def _few(keys: List[str], n: int = 2) -> str:
    """``'e.g. a.b, c.d; under backbone.* 290, neck.* 12'``: names, then counts by prefix."""
    keys = sorted(keys, key=_natural)
    groups: Dict[str, int] = {}
    for k in keys:
        groups[k.split('.')[0]] = groups.get(k.split('.')[0], 0) + 1
    examples = [next(k for k in keys if k.split('.')[0] == g) for g in list(groups)[:n]]
    counts = ', '.join(f'{g}.* {c}' for g, c in list(groups.items())[:6])
    return f'e.g. {", ".join(examples)}; {counts}'


def describe_checkpoint(state: Mapping[str, torch.Tensor]) -> str:
    """What a state dict looks like, with the fix for using it.

    Args:
        state (Mapping[str, Tensor]): The checkpoint's weights.

    Returns:
        str: A clause for an error message, e.g. ``'this is a SAM checkpoint: ...'``.
    """
    if not state:
        return 'it holds no weights'
    if any(k.startswith(SAM_PREFIXES) for k in state):
        return ('this is a SAM checkpoint: set model.sam_checkpoint=FILE for training, and '
                'test a DADF checkpoint from tools/train.py')
    prefixes = sorted({k.split('.')[0] for k in state})
    return f'its weights are under {", ".join(prefixes[:6])}: a checkpoint of another model'


def check_checkpoint_fits(model: nn.Module, path: str, *, allow_partial: bool = False) -> dict:
    """Raise :class:`CheckpointFileError` unless ``path`` holds the weights of ``model``.

    Args:
        model (nn.Module): the built model (not wrapped).
        path (str): the checkpoint.
        allow_partial (bool): only refuse a file that matches no key at all (the user
            opted into partial loading). Defaults to False.

    Returns:
        dict: ``missing``, ``unexpected`` and ``mismatched`` key lists.
    """
    # keys and shapes only (the mapped file's data is not read): the load that follows
    # (mmengine's, through the weights-only loaders) refuses NaN / Inf
    state = checkpoint_state_dict(read_checkpoint(path, check_finite=False))
    return check_state_fits(model, state, path, allow_partial=allow_partial)


def check_state_fits(model: nn.Module, state: Mapping[str, torch.Tensor], name: str, *,
                     allow_partial: bool = False, fix: Optional[str] = None) -> dict:
    """Raise :class:`CheckpointFileError` unless ``state`` holds the weights of ``model``.

    Args:
        model (nn.Module): the built model (not wrapped).
        state (Mapping[str, Tensor]): the checkpoint's weights
            (:func:`checkpoint_state_dict`).
        name (str): the checkpoint, for the message.
        allow_partial (bool): only refuse a file that matches no key at all. Defaults
            to False.
        fix (str, optional): the end of the message; None for "pass
            --allow-partial-checkpoint". Defaults to None.

    Returns:
        dict: ``missing``, ``unexpected`` and ``mismatched`` key lists.
    """
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    mismatched = [k for k in expected if k in state
                  and tuple(state[k].shape) != tuple(expected[k].shape)]
    report = dict(missing=missing, unexpected=unexpected, mismatched=mismatched)
    matched = len(expected) - len(missing) - len(mismatched)
    if not (missing or unexpected or mismatched) or (allow_partial and matched > 0):
        return report
    parts = []
    if missing:
        parts.append(f'{len(missing)} of the model\'s {len(expected)} keys missing '
                     f'({_few(missing)})')
    if unexpected:
        parts.append(f'{len(unexpected)} unexpected ({_few(unexpected)})')
    if mismatched:
        k = sorted(mismatched, key=_natural)[0]
        parts.append(f'{len(mismatched)} of another shape ({k}: file '
                     f'{tuple(state[k].shape)} vs model {tuple(expected[k].shape)}: '
                     'a checkpoint of another size; use the config it was trained with)')
    if fix is None:
        fix = ('' if allow_partial else
               '; pass --allow-partial-checkpoint to load the matching keys anyway')
    if missing or unexpected:
        parts.append(describe_checkpoint(state))
    raise CheckpointFileError(
        f'checkpoint {name!r} does not fit the model: {"; ".join(parts)}{fix}')
