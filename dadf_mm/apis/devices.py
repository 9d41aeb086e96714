"""The device inference runs on: the default one, and a named one checked against what this
machine has (before any model is built)."""
import torch

#: device types the inferencer runs on
DEVICE_TYPES = ('cpu', 'cuda', 'mps')


def default_device() -> str:
    """The device to infer on by default.

    Returns:
        str: ``'cuda'`` when a GPU is available, else ``'cpu'``.
    """
    return 'cuda' if torch.cuda.is_available() else 'cpu'


def checked_device(name: str) -> str:
    """``name`` when this machine has that device.

    Args:
        name (str): ``'cpu'``, ``'cuda'``, ``'cuda:N'`` (or ``'mps'`` on a Mac).

    Returns:
        str: ``name``, stripped.

    Raises:
        ValueError: an unknown device, a GPU where there is none, or a GPU index this
            machine does not have; the message names the device and what to use instead.
    """
    name = str(name).strip()
    try:
        parsed = torch.device(name)
    except (RuntimeError, ValueError):
        parsed = None
    if parsed is None or parsed.type not in DEVICE_TYPES:
        raise ValueError(f"unknown device {name!r}: use 'cpu', 'cuda' or 'cuda:N'")
    if parsed.type == 'mps' and not torch.backends.mps.is_available():
        raise ValueError(f"device {name!r}: this machine has no MPS GPU; use 'cpu'")
    if parsed.type == 'cuda':
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"device {name!r}: this machine has no usable GPU "
                             "(torch.cuda.is_available() is False); use 'cpu'")
        if parsed.index is not None and parsed.index >= count:
            have = 'cuda:0' if count == 1 else f'cuda:0 to cuda:{count - 1}'
            raise ValueError(f'device {name!r}: this machine has {count} GPU'
                             f"{'s' if count > 1 else ''} ({have}); use one of them or 'cpu'")
    return name
