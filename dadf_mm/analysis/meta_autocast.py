"""Model code on the meta device: ``torch.autocast`` with device type ``'meta'``.

``torch.autocast`` rejects the device type ``'meta'``, which a model built on meta passes
on when it enters its precision regions as ``torch.autocast(x.device.type, ...)``. Inside
:func:`autocast_on_meta`, ``torch.autocast('meta', ...)`` is the CPU's autocast of the same
arguments, which :class:`~.target_emulation.TargetEmulation` applies to meta tensors (and
checkpointing restores for its recomputation), so the model code needs no case of its own.
"""
from contextlib import contextmanager
from typing import Any, Iterator

import torch

_AUTOCAST = torch.autocast


class _MetaAutocast(_AUTOCAST):
    """``torch.autocast`` that reads device type ``'meta'`` as ``'cpu'``."""

    def __init__(self, device_type: str, *args: Any, **kwargs: Any) -> None:
        super().__init__('cpu' if device_type == 'meta' else device_type, *args, **kwargs)


@contextmanager
def autocast_on_meta() -> Iterator[None]:
    """Inside, ``torch.autocast('meta', ...)`` works as ``torch.autocast('cpu', ...)``;
    every other device type is unchanged. ``torch.autocast`` is restored on exit."""
    original = torch.autocast
    torch.autocast = _MetaAutocast
    try:
        yield
    finally:
        torch.autocast = original
