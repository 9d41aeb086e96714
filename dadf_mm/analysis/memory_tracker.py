"""A timeline of live tensor memory, kept at the dispatcher, on any device (meta included).

Every op that reaches the dispatcher passes through :class:`MemoryTracker`: each storage
that appears in an op's outputs and was not there before (not tracked, not one of the op's
inputs) is counted once, by its byte size, when it is created; a ``weakref.finalize`` on
the storage takes it off when it dies. PyTorch keeps one Python object per storage for as
long as the storage lives (``t.untyped_storage() is t.untyped_storage()``, and a finaliser
on it fires when the last tensor on it is freed), so views, in-place results and repeated
``untyped_storage()`` calls never count twice, and a freed storage is noticed at the moment
its memory would be returned to the allocator.

What the dispatcher cannot see is not counted: workspaces that kernels allocate inside one
op (cuBLAS, cuDNN, oneDNN scratchpads) and allocator fragmentation. On meta no kernel runs,
so nothing else is spent; the timeline is the one the same program has on a real device.

Tensors saved for backward are observed with ``saved_tensors_hooks`` (:meth:`saved_hooks`),
deduplicated by storage; parameters and buffers are not activations and are left out.
"""
import os
import traceback
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, Optional, Set, Tuple

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

# Placeholders for data-dependent results on meta, where no value exists: ``.item()`` of a
# meta tensor returns these (a count or a weight of 1 keeps losses and their averages
# finite), and ``nonzero`` assumes every element is non-zero (an upper bound on memory).
META_SCALARS = {torch.bool: True}
META_DEFAULT_INT = 1
META_DEFAULT_FLOAT = 1.0


# frames that are not the caller of an op: torch's own and this package's
_SKIPPED_FRAMES = (os.path.dirname(torch.__file__), os.path.dirname(__file__))


def round_up(size: int, granularity: int) -> int:
    """``size`` rounded up to a multiple of ``granularity``.

    Args:
        size (int): A size in bytes.
        granularity (int): The rounding step, positive.

    Returns:
        int: The smallest multiple of ``granularity`` not below ``size``.
    """
    return -(-size // granularity) * granularity


@dataclass
class Allocation:
    """The largest single allocation seen: its size, the op, output shape and phase.

    Attributes:
        nbytes (int): Its size in bytes, block-rounded. Defaults to 0.
        op (str): The op that made it, e.g. ``'mm'``. Defaults to ''.
        shape (tuple[int, ...]): The output's shape. Defaults to ().
        dtype (str): The output's dtype, e.g. ``'float32'``. Defaults to ''.
        phase (str): The phase it happened in. Defaults to ''.
    """
    nbytes: int = 0
    op: str = ''
    shape: Tuple[int, ...] = ()
    dtype: str = ''
    phase: str = ''


@dataclass
class PhaseStats:
    """Peaks of live tracked bytes (blocks, and segments) within one phase, and the op
    that reached the first.

    Attributes:
        peak (int): The peak of live block bytes. Defaults to 0.
        peak_op (str): The op at that peak (``'(start)'``: the phase's start).
            Defaults to ''.
        peak_reserved (int): The peak of live segment bytes. Defaults to 0.
    """
    peak: int = 0
    peak_op: str = ''
    peak_reserved: int = 0


@dataclass
class AllocatorModel:
    """How a device allocator sizes blocks.

    Args:
        block_round (int): every block is rounded up to this (CUDA caching allocator: 512 B;
            ``max_memory_allocated`` counts rounded blocks). Defaults to 1.
        segment_round (int): blocks above ``large_block`` are carved from segments rounded
            to this (CUDA: 2 MiB), giving a reserved-memory figure; 0 for none.
            Defaults to 0.
        large_block (int): the size above which ``segment_round`` applies (CUDA: 1 MiB).
            Defaults to 0.
    """
    block_round: int = 1
    segment_round: int = 0
    large_block: int = 0

    def block(self, nbytes: int) -> int:
        """The block an allocation of ``nbytes`` takes.

        Args:
            nbytes (int): The requested size.

        Returns:
            int: ``nbytes`` rounded up to ``block_round``.
        """
        return round_up(nbytes, self.block_round) if self.block_round > 1 else nbytes

    def segment(self, nbytes: int) -> int:
        """The reserved memory an allocation of ``nbytes`` accounts for.

        Args:
            nbytes (int): The requested size.

        Returns:
            int: Its block, rounded up to ``segment_round`` when larger than
            ``large_block``.
        """
        block = self.block(nbytes)
        if self.segment_round and block > self.large_block:
            return round_up(block, self.segment_round)
        return block


class MemoryTracker(TorchDispatchMode):
    """Counts live storages created by ops on ``devices`` (``None``: every device).

    Args:
        devices (set[str] | None): device types whose storages count, e.g. ``{'meta'}``.
            Defaults to None.
        allocator (AllocatorModel, optional): block rounding of the modelled device
            allocator; None for no rounding. Defaults to None.
        meta_fallbacks (bool): answer ``.item()`` of meta tensors with a placeholder and
            note where it was called (otherwise it raises, as meta does). Defaults to True.
    """

    def __init__(self, *, devices: Optional[Set[str]] = None,
                 allocator: Optional[AllocatorModel] = None,
                 meta_fallbacks: bool = True) -> None:
        super().__init__()
        self.devices = devices
        self.allocator = allocator or AllocatorModel()
        self.meta_fallbacks = meta_fallbacks
        self.live = self.live_reserved = 0
        self.peak = self.peak_reserved = 0
        self.peak_op = self.peak_phase = ''
        self.phase = 'setup'
        self.phases: Dict[str, PhaseStats] = {}
        self.largest = Allocation()
        self.notes: Dict[str, str] = {}  # 'file:line (function)' -> what happened there
        self._sizes: Dict[int, Tuple[int, int]] = {}  # id(storage) -> (block, segment)
        self._known: Set[int] = set()  # storages that existed before (never counted)
        self._saved: Dict[int, int] = {}  # id(storage) -> nbytes, saved for backward
        self._excluded_saved: Set[int] = set()

    # phases ------------------------------------------------------------------------------
    def set_phase(self, name: str) -> None:
        """Start a phase (``'forward'``, ``'backward'``, ...): its own peak is recorded.

        Args:
            name (str): The phase's name (a repeated name starts it afresh).
        """
        self.phase = name
        self.phases[name] = PhaseStats(peak=self.live, peak_op='(start)',
                                       peak_reserved=self.live_reserved)

    def ignore(self, tensors: Iterable[torch.Tensor]) -> None:
        """Mark storages that exist before tracking (parameters, inputs) as not new.

        Args:
            tensors (Iterable[Tensor]): The tensors; other items are skipped.
        """
        for t in tensors:
            if isinstance(t, torch.Tensor):
                self._remember(t.untyped_storage(), self._known)

    def _remember(self, storage: torch.UntypedStorage, registry) -> None:
        key = id(storage)
        if key in registry:
            return
        if isinstance(registry, dict):
            registry[key] = storage.nbytes()
        else:
            registry.add(key)
        weakref.finalize(storage, _discard, registry, key)

    # dispatch ----------------------------------------------------------------------------
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func is torch.ops.aten._local_scalar_dense.default and self.meta_fallbacks:
            tensor = args[0]
            if tensor.device.type == 'meta':
                self._note('item() of a meta tensor answered with a placeholder')
                if tensor.dtype in META_SCALARS:
                    return META_SCALARS[tensor.dtype]
                return (META_DEFAULT_FLOAT if tensor.dtype.is_floating_point
                        else META_DEFAULT_INT)
        if func is torch.ops.aten.nonzero.default and args[0].device.type == 'meta':
            self._note('nonzero() of a meta tensor: every element assumed non-zero')
        out = func(*args, **kwargs)
        flat_in, _ = tree_flatten((args, kwargs))
        inputs = {id(t.untyped_storage()) for t in flat_in
                  if isinstance(t, torch.Tensor) and _has_storage(t)}
        flat_out, _ = tree_flatten(out)
        for t in flat_out:
            if isinstance(t, torch.Tensor) and _has_storage(t):
                self._see(t, func, inputs)
        return out

    def _see(self, t: torch.Tensor, func, inputs: Set[int]) -> None:
        if self.devices is not None and t.device.type not in self.devices:
            return
        storage = t.untyped_storage()
        key = id(storage)
        if key in self._known or (key in inputs and key not in self._sizes):
            return  # existed before tracking, or an in-place result
        nbytes = storage.nbytes()
        if key in self._sizes:  # an op that resized its output in place
            old = self._sizes[key]
            if old[0] == self.allocator.block(nbytes):
                return
            self._free(old)
        block, segment = self.allocator.block(nbytes), self.allocator.segment(nbytes)
        self._sizes[key] = (block, segment)
        weakref.finalize(storage, self._release, key)
        self.live += block
        self.live_reserved += segment
        name = str(func.overloadpacket.__name__) if hasattr(func, 'overloadpacket') else str(func)
        if block > self.largest.nbytes:
            self.largest = Allocation(nbytes=block, op=name, shape=tuple(t.shape),
                                      dtype=str(t.dtype).replace('torch.', ''), phase=self.phase)
        if self.live > self.peak:
            self.peak, self.peak_op, self.peak_phase = self.live, name, self.phase
        self.peak_reserved = max(self.peak_reserved, self.live_reserved)
        stats = self.phases.get(self.phase)
        if stats is not None:
            if self.live > stats.peak:
                stats.peak, stats.peak_op = self.live, name
            stats.peak_reserved = max(stats.peak_reserved, self.live_reserved)

    def _release(self, key: int) -> None:
        sizes = self._sizes.pop(key, None)
        if sizes is not None:
            self._free(sizes)

    def _free(self, sizes: Tuple[int, int]) -> None:
        self.live -= sizes[0]
        self.live_reserved -= sizes[1]

    def _note(self, what: str) -> None:
        """Record ``what`` once per call site outside torch (file:line of the caller)."""
        for frame in reversed(traceback.extract_stack()[:-2]):
            if not frame.filename.startswith(_SKIPPED_FRAMES):
                where = f'{frame.filename}:{frame.lineno} ({frame.name})'
                self.notes.setdefault(where, what)
                return

    # saved tensors -----------------------------------------------------------------------
    def exclude_saved(self, tensors: Iterable[torch.Tensor]) -> None:
        """Storages not to count as saved activations (parameters and buffers).

        Args:
            tensors (Iterable[Tensor]): The tensors.
        """
        for t in tensors:
            self._remember(t.untyped_storage(), self._excluded_saved)

    def saved_hooks(self) -> torch.autograd.graph.saved_tensors_hooks:
        """Hooks that record each tensor autograd saves (by storage) and keep it as is.

        The pack hook returns a detached alias: the saved tensor itself would hold its own
        ``grad_fn``, a reference cycle that only the garbage collector frees.

        Returns:
            torch.autograd.graph.saved_tensors_hooks: The context manager to run the
            forward pass in.
        """

        def pack(t: torch.Tensor) -> torch.Tensor:
            if _has_storage(t):
                storage = t.untyped_storage()
                if id(storage) not in self._excluded_saved:
                    self._remember(storage, self._saved)
            return t.detach()

        return torch.autograd.graph.saved_tensors_hooks(pack, _identity)

    @property
    def saved_bytes(self) -> int:
        """int: Bytes of the distinct storages saved for backward that are alive now."""
        return sum(self.allocator.block(n) for n in self._saved.values())


def _identity(t: Any) -> Any:
    return t


def _discard(registry, key: int) -> None:
    if isinstance(registry, dict):
        registry.pop(key, None)
    else:
        registry.discard(key)


def _has_storage(t: torch.Tensor) -> bool:
    return not t.is_sparse and not getattr(t, 'is_nested', False) and t.layout == torch.strided


def storage_bytes(tensors: Iterable[torch.Tensor],
                  allocator: Optional[AllocatorModel] = None) -> int:
    """Bytes of the distinct storages of ``tensors`` (rounded as ``allocator`` says).

    Args:
        tensors (Iterable[Tensor]): The tensors; other items are skipped.
        allocator (AllocatorModel, optional): Block rounding; None for exact sizes.
            Defaults to None.

    Returns:
        int: The sum of the storages' (rounded) sizes.
    """
    seen: Dict[int, int] = {}
    keep = []  # holds each storage until the sum is done, so no id is reused meanwhile
    for t in tensors:
        if isinstance(t, torch.Tensor) and _has_storage(t):
            storage = t.untyped_storage()
            keep.append(storage)
            seen[id(storage)] = storage.nbytes()
    block: Callable[[int], int] = allocator.block if allocator else (lambda n: n)
    return sum(block(n) for n in seen.values())
