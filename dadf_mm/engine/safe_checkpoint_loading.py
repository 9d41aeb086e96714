"""Let mmengine resume and ``load_from`` under ``torch.load(weights_only=True)``.

mmengine 0.10.7 calls ``torch.load`` without ``weights_only``; torch >= 2.6 makes that
``True``, and mmengine's checkpoints then fail to load because their ``message_hub``
holds ``HistoryBuffer`` objects and numpy arrays. Rather than unpickling arbitrary
objects (``weights_only=False``, which runs code from the file), the few types mmengine
writes are added to torch's allow-list. A checkpoint that needs anything else is refused.
"""
from typing import List

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer


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
MMENGINE_SAFE_GLOBALS: List[object] = [HistoryBuffer, *_numpy_globals()]


def allow_mmengine_checkpoints() -> None:
    """Add :data:`MMENGINE_SAFE_GLOBALS` to torch's weights-only allow-list."""
    if hasattr(torch.serialization, 'add_safe_globals'):
        torch.serialization.add_safe_globals(MMENGINE_SAFE_GLOBALS)
