"""Reading checkpoint files with one clear error per way a file can be wrong.

torch's own errors name no file and say little: an empty file gives a bare ``EOFError``, a
truncated one a zip-reader message, and a refused pickle a paragraph whose key line (the
global it asked for) comes last. :func:`read_checkpoint` turns each into one line that
names the file, what is wrong with it and what to do.
"""
import os
import re
import zipfile
from typing import Any, Optional, Union

import torch

CUT_OFF = ('it was cut off while being written, copied or downloaded; write, copy or '
           'download it again (compare its size with the original) or use another checkpoint')


class CheckpointFileError(RuntimeError):
    """A checkpoint file that is missing, empty, truncated, refused or not a torch file."""


class NonFiniteCheckpointError(CheckpointFileError):
    """A checkpoint whose tensors hold NaN or Inf (saved after training diverged)."""


def first_non_finite(obj: Any, prefix: str = '') -> Optional[str]:
    """The key of the first floating tensor in ``obj`` holding NaN or Inf.

    Args:
        obj (Any): What a checkpoint file holds: nested mappings, lists and tensors
            (other values are skipped).
        prefix (str): The key of ``obj`` itself, for the returned name. Defaults to ''.

    Returns:
        str | None: E.g. ``'state_dict.decode_head.conv.weight'``, in the file's order;
        None when every tensor is finite.
    """
    if isinstance(obj, torch.Tensor):
        if (obj.is_floating_point() or obj.is_complex()) and obj.numel() and \
                not bool(torch.isfinite(obj).all()):
            return prefix or '(the whole file)'
        return None
    if isinstance(obj, dict):
        items = obj.items()
    elif isinstance(obj, (list, tuple)):
        items = enumerate(obj)
    else:
        return None
    for key, value in items:
        found = first_non_finite(value, f'{prefix}.{key}' if prefix else str(key))
        if found is not None:
            return found
    return None


def _refused_global(message: str) -> str:
    """The object a weights-only load refused, from torch's message ('' if not found)."""
    found = re.search(r'GLOBAL ([\w.]+)', message)
    if found:
        return found.group(1)
    found = re.search(r'refused to unpickle ([^\n]*?)(?::|$)', message)
    return found.group(1) if found else ''


def _zip_without_end(path: str) -> bool:
    """A torch zip file whose end (the central directory) is missing: cut off."""
    try:
        with open(path, 'rb') as f:
            starts_as_zip = f.read(4) == b'PK\x03\x04'
        return starts_as_zip and not zipfile.is_zipfile(path)
    except OSError:
        return False


def _detail(message: str) -> str:
    """The informative line of torch's message (not its boilerplate about weights_only)."""
    boilerplate = ('Weights only load failed', 'Please file an issue', 'Check the documentation')
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    useful = [line for line in lines if not line.startswith(boilerplate)]
    return (useful or lines or [''])[0][:200]


def describe_load_error(path: str, err: BaseException) -> str:
    """One line saying why ``path`` could not be read as a weights-only torch file.

    Args:
        path (str): the file.
        err (BaseException): what ``torch.load`` raised.

    Returns:
        str: ``'<path> is empty ...'``, ``'... is truncated ...'``, ``'... was refused ...'``
        or ``'... is not a torch checkpoint ...'``, with the fix.
    """
    size = os.path.getsize(path) if os.path.isfile(path) else -1
    message = str(err)
    if size == 0:
        return f'{path!r} is empty (0 bytes): {CUT_OFF}'
    refused = _refused_global(message)
    if refused:
        return (f'{path!r} was refused: it asks to unpickle {refused}, which a weights-only '
                'load does not allow (the file may run code when loaded). Use a checkpoint '
                'written by tools/train.py or an official SAM file; never load this one '
                'with weights_only=False unless you made it yourself')
    if isinstance(err, EOFError) or 'central directory' in message or \
            'PytorchStreamReader' in message or _zip_without_end(path):
        return (f'{path!r} is truncated or corrupt ({size} bytes, not a complete torch '
                f'file): {CUT_OFF}')
    first = _detail(message)
    return (f'{path!r} is not a torch checkpoint ({type(err).__name__}: {first}); '
            'pass a .pth file written by tools/train.py or torch.save')


def read_checkpoint(path: str, *, mmap: bool = True,
                    map_location: Union[str, Any] = 'cpu', check_finite: bool = True) -> Any:
    """``torch.load(path, weights_only=True)`` raising :class:`CheckpointFileError`.

    Every checkpoint this project loads goes through here (mmengine's loaders included,
    see :mod:`.checkpoint_schemes`): nothing in a file is ever run.

    Args:
        path (str): the checkpoint.
        mmap (bool): map zip-format files instead of reading them (cheap: a check of the
            keys and shapes reads no tensor data). Legacy files are read whole.
            Defaults to True.
        map_location (str | Any): as :func:`torch.load`. Defaults to ``'cpu'``.
        check_finite (bool): refuse a file whose tensors hold NaN or Inf
            (:class:`NonFiniteCheckpointError`, naming the first such key). Defaults
            to True.

    Returns:
        Any: what the file holds.
    """
    if os.path.isdir(path):
        raise CheckpointFileError(f'checkpoint {path!r} is a folder, not a .pth file')
    if not os.path.isfile(path):
        raise CheckpointFileError(f'checkpoint {path!r} not found')
    use_mmap = mmap and zipfile.is_zipfile(path)
    try:
        checkpoint = torch.load(path, map_location=map_location, weights_only=True,
                                mmap=use_mmap)
    except Exception as err:  # noqa: B902  every failure becomes one line naming the file
        raise CheckpointFileError(describe_load_error(path, err)) from err
    bad = first_non_finite(checkpoint) if check_finite else None
    if bad is not None:
        raise NonFiniteCheckpointError(
            f'checkpoint {path!r} holds NaN or Inf values (first in {bad}): it was saved '
            'after training diverged; use an earlier checkpoint, and lower the learning '
            'rate for a new run')
    return checkpoint
