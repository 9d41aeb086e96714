"""Float32 that is float32: TensorFloat-32 switched off where RGA's signal is made.

torch 2.14 runs float32 convolutions on Ampere and later GPUs in TF32 by default
(``torch.backends.cudnn.conv.fp32_precision == 'tf32'``): their inputs are rounded to a
10-bit mantissa, a relative error of ``2^-11 ~ 4.9e-4``, about the size of the difference
``F(x + e) - F(x)`` (``e ~ 1e-3`` of the input) that RGA reads. Measured on a GPU, ``S``
under TF32 correlated 0.70 with the float32 ``S``. A float32 encoder therefore runs its
forward pass, the recomputation of checkpointed blocks and its backward pass with every
float32 precision switch at ``'ieee'`` (:func:`exact_float32`), and restores the user's
settings afterwards. Reduced-precision encoders (``compute_dtype`` bfloat16 / float16)
leave the switches as the user set them.
"""
from contextlib import contextmanager
from typing import Dict, Iterator, Optional

import torch
from torch.autograd import Function

# the float32 switches of torch >= 2.9, each 'ieee', 'tf32' (or 'bf16' for oneDNN) or 'none'
_SWITCHES = (('cuda', 'matmul'), ('cudnn', 'conv'), ('mkldnn', 'matmul'), ('mkldnn', 'conv'))


def at_least_float32(x: torch.Tensor) -> torch.Tensor:
    """``x`` in float32 if it is of a lower precision, else unchanged (float64 stays: the
    float64 references of the tests and of the RGA signal check run the same code).

    Args:
        x (Tensor): Any floating-point tensor.

    Returns:
        Tensor: ``x`` in float32 or float64, same shape.
    """
    return x.to(torch.promote_types(x.dtype, torch.float32))


def _backend(name: str, op: str):
    return getattr(getattr(torch.backends, name), op)


def float32_precisions() -> Dict[str, str]:
    """The current ``fp32_precision`` of every switch that :func:`exact_float32` sets, as
    ``{'cudnn.conv': 'tf32', ...}``.

    Returns:
        dict[str, str]: ``'backend.op'`` -> ``'ieee'``, ``'tf32'``, ``'bf16'`` or
        ``'none'``.
    """
    return {f'{name}.{op}': _backend(name, op).fp32_precision for name, op in _SWITCHES}


def set_float32_precisions(values: Dict[str, str]) -> None:
    """Set switches by the keys :func:`float32_precisions` returns.

    Args:
        values (dict[str, str]): ``'backend.op'`` -> precision, e.g.
            ``{'cudnn.conv': 'ieee'}``.
    """
    for key, value in values.items():
        name, op = key.split('.')
        _backend(name, op).fp32_precision = value


@contextmanager
def exact_float32() -> Iterator[None]:
    """Every float32 matrix product and convolution in IEEE float32 inside; the previous
    settings are restored on exit (also on an exception)."""
    saved = float32_precisions()
    set_float32_precisions({key: 'ieee' for key in saved})
    try:
        yield
    finally:
        set_float32_precisions(saved)


class _ExactFloat32Backward(Function):
    """Identity in forward; in backward, switches TF32 off until the backward pass ends.

    Placed on the encoder's output, its backward runs before any of the encoder's own
    backward kernels, so they all run in IEEE float32. The user's settings come back in a
    callback that autograd runs when the whole backward pass is done; nested or repeated
    uses (two encoder calls in one step) save and restore them once.
    """
    _saved: Optional[Dict[str, str]] = None

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        cls = _ExactFloat32Backward
        if cls._saved is None:
            cls._saved = float32_precisions()
            set_float32_precisions({key: 'ieee' for key in cls._saved})
            torch.autograd.Variable._execution_engine.queue_callback(cls._restore)
        return grad

    @staticmethod
    def _restore() -> None:
        cls = _ExactFloat32Backward
        if cls._saved is not None:
            set_float32_precisions(cls._saved)
            cls._saved = None


def exact_float32_backward(x: torch.Tensor) -> torch.Tensor:
    """``x`` itself; the backward pass through everything that produced ``x`` runs with
    TF32 off (the user's settings return when the backward pass ends).

    Args:
        x (Tensor): The encoder's output.

    Returns:
        Tensor: ``x`` unchanged in value (a view when it requires grad, so the backward
        hook is attached).
    """
    if not x.requires_grad:
        return x
    return _ExactFloat32Backward.apply(x)
