"""Float32 that is float32: TensorFloat-32 switched off where RGA's signal is made.

TF32's rounding is as large as the difference RGA reads (why, and the measurements:
docs/performance.md#float32-is-float32). A float32 encoder therefore runs its
forward pass, the recomputation of checkpointed blocks and its backward pass with every
float32 precision switch at ``'ieee'`` (:func:`exact_float32`), and restores the user's
settings afterwards: when the region ends, when the backward pass ends, and when the
backward pass fails (an out-of-memory error a caller catches). Inside, torch's legacy
flags agree with the switches (``torch.backends.cudnn.allow_tf32`` and
``torch.backends.cuda.matmul.allow_tf32`` read ``False``, ``torch.backends.cudnn.flags()``
can be entered, as inductor's convolution templates do), which setting the switches alone
would not give ("a mix of the legacy and new APIs"). Reduced-precision encoders
(``compute_dtype`` bfloat16 / float16) leave the switches as the user set them.
"""
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, Optional, Tuple

import torch
from torch.autograd import Function

# the float32 switches of torch >= 2.9 that kernels read, each 'ieee', 'tf32' (or 'bf16' for
# oneDNN) or 'none', by (backend, op) of torch._C's fp32_precision getter and setter.
# cuDNN's RNN switch is set with its convolution one: torch's legacy reading of
# ``torch.backends.cudnn.allow_tf32`` (and ``torch.backends.cudnn.flags()``, which
# inductor's convolution templates enter) refuses the two when they differ
_SWITCHES: Dict[str, Tuple[str, str]] = {
    'cuda.matmul': ('cuda', 'matmul'), 'cudnn.conv': ('cuda', 'conv'),
    'cudnn.rnn': ('cuda', 'rnn'), 'mkldnn.matmul': ('mkldnn', 'matmul'),
    'mkldnn.conv': ('mkldnn', 'conv'), 'mkldnn.rnn': ('mkldnn', 'rnn')}
# their parents (a switch at 'none' follows its parent), set before them
_PARENTS: Dict[str, Tuple[str, str]] = {
    'all': ('generic', 'all'), 'cuda.all': ('cuda', 'all'), 'mkldnn.all': ('mkldnn', 'all')}


def at_least_float32(x: torch.Tensor) -> torch.Tensor:
    """``x`` in float32 if it is of a lower precision, else unchanged (float64 stays: the
    float64 references of the tests and of the RGA signal check run the same code).

    Args:
        x (Tensor): Any floating-point tensor.

    Returns:
        Tensor: ``x`` in float32 or float64, same shape.
    """
    return x.to(torch.promote_types(x.dtype, torch.float32))


def float32_precisions() -> Dict[str, str]:
    """The current ``fp32_precision`` of every switch that :func:`exact_float32` sets, as
    ``{'cudnn.conv': 'tf32', ...}``.

    Returns:
        dict[str, str]: ``'backend.op'`` -> ``'ieee'``, ``'tf32'``, ``'bf16'`` or
        ``'none'``.
    """
    return {key: torch._C._get_fp32_precision_getter(*where)
            for key, where in _SWITCHES.items()}


def set_float32_precisions(values: Dict[str, str]) -> None:
    """Set switches by the keys :func:`float32_precisions` returns.

    Args:
        values (dict[str, str]): ``'backend.op'`` -> precision, e.g.
            ``{'cudnn.conv': 'ieee'}``.
    """
    for key, value in values.items():
        torch._C._set_fp32_precision_setter(*_SWITCHES[key], value)


def _legacy(read: Callable[[], Any]) -> Any:
    try:
        return read()
    except RuntimeError:  # "mix of the legacy and new APIs"
        return None


class _Float32Settings:
    """Every float32 setting the region changes, read and written in one order: torch's
    legacy flags (cuDNN's ``allow_tf32``, the matmul precision), then the parents, then
    the switches, since writing a legacy flag or a parent rewrites the switches below.

    Reading and writing them, like everything else here that touches them, is kept out
    of ``torch.compile``'s graphs (``torch.compiler.disable``): they are side effects of
    the running process, which a traced graph would evaluate once, while tracing."""

    @torch.compiler.disable
    def __init__(self) -> None:
        # a legacy flag is unreadable when the user's own settings already mix the two
        # APIs; it is then left as it is
        self.cudnn_tf32: Optional[bool] = _legacy(torch._C._get_cudnn_allow_tf32)
        self.matmul: Optional[str] = _legacy(torch.get_float32_matmul_precision)
        self.parents = {key: torch._C._get_fp32_precision_getter(*where)
                        for key, where in _PARENTS.items()}
        self.switches = float32_precisions()

    @torch.compiler.disable
    def apply(self) -> None:
        """Make these the current settings."""
        if self.cudnn_tf32 is not None:
            torch._C._set_cudnn_allow_tf32(self.cudnn_tf32)
        if self.matmul is not None:
            torch.set_float32_matmul_precision(self.matmul)
        for key, where in _PARENTS.items():
            torch._C._set_fp32_precision_setter(*where, self.parents[key])
        set_float32_precisions(self.switches)

    def ieee(self) -> '_Float32Settings':
        """IEEE float32 everywhere, the legacy flags agreeing (TF32 off); a legacy flag
        these settings could not read is left alone."""
        settings = _Float32Settings.__new__(_Float32Settings)
        settings.cudnn_tf32 = None if self.cudnn_tf32 is None else False
        settings.matmul = None if self.matmul is None else 'highest'
        settings.parents = {key: 'ieee' for key in _PARENTS}
        settings.switches = {key: 'ieee' for key in _SWITCHES}
        return settings


class _BackwardRegion:
    """The user's settings while a backward pass runs the encoder's kernels in IEEE
    float32: saved by the first :class:`_ExactFloat32Backward` node of the pass, restored
    when the pass ends, whether it completes (autograd's final callback) or fails (the
    callback, never called, is released with the pass: :class:`_EndOfBackward`). A
    forward pass outside any backward pass restores what a pass may have left first."""

    def __init__(self) -> None:
        self._saved: Optional[_Float32Settings] = None
        self._token = 0  # which pass saved them

    @torch.compiler.disable
    def enter(self) -> None:
        """Switch TF32 off until the current backward pass ends; nothing when this pass
        (or one it runs inside) already did."""
        if self._saved is not None:
            return
        self._saved = _Float32Settings()
        self._token += 1
        self._saved.ieee().apply()
        torch.autograd.Variable._execution_engine.queue_callback(_EndOfBackward(self._token))

    @torch.compiler.disable
    def end(self, token: int) -> None:
        """Restore the user's settings saved by pass ``token`` (if still held)."""
        if self._saved is not None and token == self._token:
            saved, self._saved = self._saved, None
            saved.apply()

    @torch.compiler.disable
    def recover(self) -> None:
        """Restore settings that a backward pass left, when no backward pass runs."""
        if self._saved is not None and torch._C._current_graph_task_id() == -1:
            self.end(self._token)


_REGION = _BackwardRegion()


class _EndOfBackward:
    """Autograd's final callback of one backward pass; restores on call, and on release
    when the pass failed before calling it."""

    def __init__(self, token: int) -> None:
        self.token = token

    def __call__(self) -> None:
        _REGION.end(self.token)

    def __del__(self) -> None:
        _REGION.end(self.token)


@contextmanager
def exact_float32() -> Iterator[None]:
    """Every float32 matrix product and convolution in IEEE float32 inside, with torch's
    legacy flags agreeing (``torch.backends.cudnn.allow_tf32`` reads ``False``,
    ``torch.backends.cudnn.flags()`` can be entered); the previous settings are restored
    on exit (also on an exception)."""
    _REGION.recover()
    saved = _Float32Settings()
    saved.ieee().apply()
    try:
        yield
    finally:
        saved.apply()


class _ExactFloat32Backward(Function):
    """Identity in forward; in backward, switches TF32 off until the backward pass ends.

    Placed on the encoder's output, its backward runs before any of the encoder's own
    backward kernels, so they all run in IEEE float32. It is applied outside
    ``torch.compile``'s graphs (:func:`exact_float32_backward`): traced into one, as by a
    compiled ``train_step`` (mmengine's ``compile=True``), its backward would switch
    nothing at run time, and a compiled encoder's backward would run in TF32. The
    user's settings come back when the whole backward pass is done or has failed
    (:class:`_BackwardRegion`); nested or repeated uses (two encoder calls in one step)
    save and restore them once.
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor) -> torch.Tensor:
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        _REGION.enter()
        return grad


@torch.compiler.disable
def exact_float32_backward(x: torch.Tensor) -> torch.Tensor:
    """``x`` itself; the backward pass through everything that produced ``x`` runs with
    TF32 off (the user's settings return when the backward pass ends or fails).

    Args:
        x (Tensor): The encoder's output.

    Returns:
        Tensor: ``x`` unchanged in value (a view when it requires grad, so the backward
        hook is attached).
    """
    _REGION.recover()
    if not x.requires_grad:
        return x
    return _ExactFloat32Backward.apply(x)
