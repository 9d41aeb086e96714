"""Let mmengine resume and ``load_from`` under ``torch.load(weights_only=True)``.

mmengine 0.10.7 calls ``torch.load`` without ``weights_only``; torch >= 2.6 makes that
``True``, and mmengine's checkpoints then fail to load: their ``message_hub`` holds
``HistoryBuffer`` objects, numpy arrays and scalars, and references to the buffer's
statistics methods, pickled as ``getattr(HistoryBuffer, 'mean')``.

Rather than unpickling arbitrary objects (``weights_only=False``, which runs code from the
file), exactly these types are added to torch's allow-list, and ``getattr`` is served by
a resolver that only returns ``HistoryBuffer``'s statistics methods. A checkpoint that
needs anything else is refused by torch with an ``UnpicklingError``.
"""
from typing import Callable, List

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer

from .checkpoint_schemes import install_safe_checkpoint_schemes


def history_buffer_getattr(obj: object, name: str) -> Callable:
    """``getattr`` as mmengine's pickles use it, restricted to HistoryBuffer statistics.

    Args:
        obj (object): The object looked up; only ``HistoryBuffer`` is served.
        name (str): The attribute; only a registered statistics method is served.

    Returns:
        Callable: The statistics method (e.g. ``HistoryBuffer.mean``).
    """
    if obj is HistoryBuffer and name in HistoryBuffer._statistics_methods:
        return HistoryBuffer._statistics_methods[name]
    raise pickle_error(f'getattr({obj!r}, {name!r})')


def pickle_error(what: str) -> Exception:
    """The error torch's weights-only unpickler raises for a refused global.

    Args:
        what (str): The refused lookup, e.g. ``"getattr(<class 'dict'>, 'pop')"``.

    Returns:
        Exception: An ``UnpicklingError`` naming it.
    """
    return torch.serialization.pickle.UnpicklingError(
        f'refused to unpickle {what}: only HistoryBuffer statistics methods may be looked up '
        'by name in a weights-only checkpoint')


def _numpy_globals() -> List[object]:
    try:
        from numpy._core.multiarray import _reconstruct, scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct, scalar
    dtype_classes = [type(np.dtype(t)) for t in (
        np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
        np.uint64, np.float16, np.float32, np.float64)]
    return [_reconstruct, scalar, np.ndarray, np.dtype, *dtype_classes]


#: Everything mmengine 0.10.7 writes into a checkpoint besides tensors and builtins.
MMENGINE_SAFE_GLOBALS: List[object] = [
    HistoryBuffer, (history_buffer_getattr, 'builtins.getattr'), *_numpy_globals()
]


def allow_mmengine_checkpoints() -> None:
    """Add :data:`MMENGINE_SAFE_GLOBALS` to torch's weights-only allow-list, and make every
    loader of mmengine's ``CheckpointLoader`` (local, URL, model zoo, store) read weights
    only (:func:`~.checkpoint_schemes.install_safe_checkpoint_schemes`)."""
    HistoryBuffer()  # registers the default statistics methods on the class
    torch.serialization.add_safe_globals(MMENGINE_SAFE_GLOBALS)
    install_safe_checkpoint_schemes()
