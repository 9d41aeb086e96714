"""Reading checkpoint files with one clear error per way a file can be wrong.

torch's own errors name no file and say little: an empty file gives a bare ``EOFError``, a
truncated one a zip-reader message, and a refused pickle a paragraph whose key line (the
global it asked for) comes last. :func:`read_checkpoint` turns each into one line that
names the file, what is wrong with it and what to do.
"""
import os
import re
import zipfile
from typing import Any

import torch

CUT_OFF = ('it was cut off while being written, copied or downloaded; write, copy or '
           'download it again (compare its size with the original) or use another checkpoint')


class CheckpointFileError(RuntimeError):
    """A checkpoint file that is missing, empty, truncated, refused or not a torch file."""


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


def read_checkpoint(path: str, *, mmap: bool = True) -> Any:
    """``torch.load(path, weights_only=True)`` raising :class:`CheckpointFileError`.

    Args:
        path (str): the checkpoint.
        mmap (bool): map zip-format files instead of reading them (cheap: a check of the
            keys and shapes reads no tensor data). Legacy files are read whole.
            Defaults to True.

    Returns:
        Any: what the file holds (tensors on the CPU).
    """
    if not os.path.isfile(path):
        raise CheckpointFileError(f'checkpoint {path!r} not found')
    use_mmap = mmap and zipfile.is_zipfile(path)
    try:
        return torch.load(path, map_location='cpu', weights_only=True, mmap=use_mmap)
    except Exception as err:  # noqa: B902  every failure becomes one line naming the file
        raise CheckpointFileError(describe_load_error(path, err)) from err
