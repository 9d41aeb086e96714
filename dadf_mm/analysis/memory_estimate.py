"""Device memory of one training or inference step, estimated on the meta device.

:func:`estimate_step_memory` runs one step of any ``nn.Module`` whose parameters live on
the meta device (no memory, no kernels: ViT-H at 1024 px takes seconds on a CPU) and
follows every tensor storage from its creation to its death (:class:`MemoryTracker`):

* training: forward (recording what autograd saves), backward (activation checkpointing's
  recomputation included: it happens there), optimizer step (its state is really created,
  on meta), ``zero_grad(set_to_none=True)``;
* inference: forward under ``no_grad``.

The peak reported is that of a **steady-state** step, the one ``max_memory_allocated``
shows after the first: the optimizer state exists from the start of the step and the
gradients of the previous step are gone. :func:`~.memory_config.estimate_config_memory` does the
same for a DADF config, as ``tools/train.py`` would run it. On meta, model code that enters
``torch.autocast(x.device.type, ...)`` runs under the CPU's autocast
(:func:`~.meta_autocast.autocast_on_meta`).

Realism for a CUDA target (``target='cuda'``): fused attention kernels and autocast as the
GPU would run them (:class:`TargetEmulation`), every block rounded to the caching
allocator's 512 B, and two figures not in PyTorch's counts, shown separately: the rounding
of large blocks into 2 MiB segments (a floor for ``max_memory_reserved``; fragmentation
comes on top) and the CUDA context (about 0.5 GiB per process, driver and kernels; it
varies with the driver and the loaded libraries). Also added for a CUDA target: the largest
fused-attention backward workspace (float32 gradient accumulators allocated inside the
kernel call), the cuBLAS / cuBLASLt workspaces (a stated 64 MiB), and for a distributed run
DDP's gradient buckets (one more copy of the trainable gradients). What cannot be modelled
(the allocator's fragmentation, cuDNN's workspaces, NCCL's buffers) is a stated margin,
:data:`UNMODELLED_MARGIN` of the peak, on top: :attr:`MemoryEstimate.required` is what a
GPU must have. The DADF runtime turns cuDNN benchmarking off, whose trial workspaces are
bounded only by the free memory.
"""
import time
from contextlib import ExitStack, contextmanager, nullcontext
from typing import Any, Callable, Dict, Iterator, List, Optional

import torch
from torch import nn

from .memory_report import (  # noqa: F401  (re-exported: the estimate's names)
    CUBLAS_WORKSPACE_BYTES,
    CUDA_BLOCK_ROUND,
    CUDA_CONTEXT_BYTES,
    CUDA_LARGE_BLOCK,
    CUDA_SEGMENT_ROUND,
    MODES,
    UNMODELLED_MARGIN,
    GiB,
    MemoryEstimate,
    MiB,
    allocator_for,
)
from .memory_tracker import MemoryTracker, storage_bytes
from .meta_autocast import autocast_on_meta
from .target_emulation import TARGETS, TargetEmulation


def _tensors(obj: Any) -> List[torch.Tensor]:
    """Tensors inside nested lists, tuples, dicts and mmengine data elements."""
    found: List[torch.Tensor] = []
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, torch.Tensor):
            found.append(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
        elif hasattr(item, 'all_items'):  # mmengine BaseDataElement
            stack.extend(v for _, v in item.all_items())
    return found


def _optimizer_state_tensors(optimizer: torch.optim.Optimizer) -> List[torch.Tensor]:
    return [v for state in optimizer.state.values() for v in state.values()
            if isinstance(v, torch.Tensor)]


@contextmanager
def _meta_nonzero() -> Iterator[None]:
    """Let ``nonzero`` run on meta, assuming every element non-zero (an upper bound)."""
    try:
        from torch.fx.experimental import _config
    except ImportError:  # pragma: no cover
        yield
        return
    old = getattr(_config, 'meta_nonzero_assume_all_nonzero', None)
    if old is None:
        yield
        return
    _config.meta_nonzero_assume_all_nonzero = True
    try:
        yield
    finally:
        _config.meta_nonzero_assume_all_nonzero = old


def estimate_step_memory(model: nn.Module,
                         step: Callable[[], Any],
                         *,
                         mode: str = 'train',
                         optimizer: Optional[torch.optim.Optimizer] = None,
                         inputs: Any = (),
                         target: str = 'cuda',
                         autocast_dtype: Optional[torch.dtype] = None,
                         distributed: bool = False,
                         description: Optional[Dict[str, Any]] = None) -> MemoryEstimate:
    """Run one step of ``model`` and measure its memory timeline.

    The model may live on any device; on meta nothing is allocated and the fused-attention
    and autocast decisions are those of ``target`` (:class:`TargetEmulation`). On a real
    device the same tracking measures what the program allocates (used to check the
    estimate against the profiler). Only storages on the model's device count: tensors
    the step makes on the CPU (DADF's per-image noise by default) are host memory on a GPU.

    Args:
        model (nn.Module): the model, its parameters on the device of the step.
        step (Callable[[], Any]): runs the forward pass; in training it returns the scalar
            loss to call ``backward`` on.
        mode (str): ``'train'`` (forward, backward, optimizer step) or ``'infer'``
            (``model.eval()``, forward under ``no_grad``). Defaults to 'train'.
        optimizer (torch.optim.Optimizer, optional): stepped after backward, its state
            counted; ``None``: no optimizer. Defaults to None.
        inputs (Any): the step's input tensors (nested containers allowed), counted as
            resident. Defaults to ().
        target (str): ``'cuda'`` or ``'cpu'``: kernels and allocator to model.
            Defaults to 'cuda'.
        autocast_dtype (torch.dtype, optional): run the forward under autocast of this
            dtype (on meta: emulated, see :mod:`.target_emulation`). Defaults to None.
        distributed (bool): the step runs under DDP (its gradient buckets are counted).
            Defaults to False.
        description (dict, optional): copied into the result. Defaults to None.

    Returns:
        MemoryEstimate: the breakdown.
    """
    if mode not in MODES:
        raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
    if target not in TARGETS:
        raise ValueError(f'target must be one of {TARGETS}, got {target!r}')
    start = time.perf_counter()
    params = list(model.parameters())
    buffers = list(model.buffers())
    device = params[0].device if params else torch.device('meta')
    on_meta = device.type == 'meta'
    allocator = allocator_for(target)
    tracker = MemoryTracker(devices={device.type}, allocator=allocator)
    in_tensors = [t for t in _tensors(inputs) if t.device.type == device.type]
    tracker.ignore(params + buffers + in_tensors)
    tracker.exclude_saved(params + buffers)
    state_before = 0  # an optimizer that has stepped before holds its state already
    if optimizer is not None:
        tracker.ignore(_optimizer_state_tensors(optimizer))
        state_before = storage_bytes(_optimizer_state_tensors(optimizer), allocator)

    emulation = TargetEmulation(target=target) if on_meta else None
    if autocast_dtype is None:
        autocast = nullcontext()
    else:
        autocast = torch.autocast('cpu' if on_meta else device.type, dtype=autocast_dtype)

    grads = opt_state = saved = retained = 0
    with ExitStack() as stack:
        if on_meta:
            stack.enter_context(_meta_nonzero())
            stack.enter_context(autocast_on_meta())
            stack.enter_context(emulation)
        stack.enter_context(tracker)
        tracker.set_phase('forward')
        if mode == 'infer':
            model.eval()
            with torch.no_grad(), autocast:
                out = step()
            del out
        else:
            model.train()
            with tracker.saved_hooks(), autocast:
                loss = step()
            saved, retained = tracker.saved_bytes, tracker.live
            tracker.set_phase('backward')
            loss.backward()
            del loss
            grads = storage_bytes((p.grad for p in params if p.grad is not None), allocator)
            if optimizer is not None:
                tracker.set_phase('optimizer')
                optimizer.step()
                opt_state = storage_bytes(
                    (t for t in _optimizer_state_tensors(optimizer)
                     if t.device.type == device.type), allocator)
                optimizer.zero_grad(set_to_none=True)

    resident_params = storage_bytes(params, allocator)
    resident = resident_params + storage_bytes(buffers, allocator) + storage_bytes(
        in_tensors, allocator)
    # steady state: the optimizer state exists before the forward of every later step
    # (in the optimizer phase the tracker has seen it created, unless it existed before)
    phase_peaks, reserved_peaks = {}, {}
    for name, stats in tracker.phases.items():
        state = opt_state if name != 'optimizer' else state_before
        phase_peaks[name] = resident + stats.peak + state
        reserved_peaks[name] = resident + stats.peak_reserved + state
    peak_phase = max(phase_peaks, key=phase_peaks.get)
    peak = phase_peaks[peak_phase]
    overhead = max(reserved_peaks.values()) - peak if target == 'cuda' else 0
    largest = tracker.largest
    cuda = target == 'cuda'
    workspace = 0
    if cuda:
        workspace = CUBLAS_WORKSPACE_BYTES + (emulation.backward_workspace if emulation and
                                              mode == 'train' else 0)
    return MemoryEstimate(
        mode=mode,
        target=target,
        parameters=resident_params,
        trainable_parameters=storage_bytes((p for p in params if p.requires_grad), allocator),
        buffers=storage_bytes(buffers, allocator),
        inputs=storage_bytes(in_tensors, allocator),
        gradients=grads,
        optimizer_state=opt_state,
        saved_activations=saved,
        retained_after_forward=retained,
        peak=peak,
        peak_phase=peak_phase,
        peak_op=tracker.phases[peak_phase].peak_op,
        first_step_peak=resident + tracker.peak + state_before,
        phase_peaks=phase_peaks,
        largest_allocation=largest.nbytes,
        largest_allocation_op=largest.op,
        largest_allocation_shape=largest.shape,
        largest_allocation_dtype=largest.dtype,
        largest_allocation_phase=largest.phase,
        allocator_overhead=max(0, overhead),
        device_context=CUDA_CONTEXT_BYTES if cuda else 0,
        kernel_workspace=workspace,
        ddp_buckets=grads if distributed and mode == 'train' else 0,
        margin=int(UNMODELLED_MARGIN * peak) if cuda else 0,
        attention_kernels=dict(emulation.backends) if emulation else {},
        notes=[f'{what}: {where}' for where, what in tracker.notes.items()],
        description=dict(description or {}),
        seconds=time.perf_counter() - start)
