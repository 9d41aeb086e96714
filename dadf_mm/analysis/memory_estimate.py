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
gradients of the previous step are gone. :func:`estimate_config_memory` does the same for
a DADF config, as ``tools/train.py`` would run it.

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
import copy
import logging
import time
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple, Union

import torch
from torch import nn

from .memory_tracker import AllocatorModel, MemoryTracker, storage_bytes
from .meta_autocast import autocast_on_meta
from .target_emulation import TARGETS, TargetEmulation

GiB = 1024**3
MiB = 1024**2
CUDA_BLOCK_ROUND = 512  # CUDA caching allocator: every block is a multiple of 512 B
CUDA_SEGMENT_ROUND = 2 * MiB  # large blocks (> 1 MiB) come from segments of 2 MiB multiples
CUDA_LARGE_BLOCK = 1 * MiB
CUDA_CONTEXT_BYTES = 512 * MiB  # CUDA context of one process, outside torch's counts
CUBLAS_WORKSPACE_BYTES = 64 * MiB  # cuBLAS + cuBLASLt workspaces (32 MiB each on sm90)
#: fraction of the peak kept free for what is not modelled: the caching allocator's
#: fragmentation (reserved above allocated in a steady training loop), cuDNN's
#: heuristic-mode workspaces, NCCL's buffers
UNMODELLED_MARGIN = 0.10
MODES = ('train', 'infer')


def allocator_for(target: str) -> AllocatorModel:
    """The block model of ``target``'s allocator (a CPU allocation is its requested size).

    Args:
        target (str): ``'cuda'`` or ``'cpu'``.

    Returns:
        AllocatorModel: CUDA's caching-allocator rounding, or no rounding for a CPU.
    """
    if target == 'cuda':
        return AllocatorModel(block_round=CUDA_BLOCK_ROUND, segment_round=CUDA_SEGMENT_ROUND,
                              large_block=CUDA_LARGE_BLOCK)
    return AllocatorModel()


@dataclass
class MemoryEstimate:
    """Memory of one step, in bytes (``*_gib`` properties and :meth:`gib` for GiB).

    Attributes:
        mode (str): ``'train'`` or ``'infer'``.
        target (str): ``'cuda'`` or ``'cpu'``.
        parameters (int): all parameters.
        trainable_parameters (int): the parameters that need gradients.
        buffers (int): module buffers (BatchNorm statistics, ...).
        inputs (int): the step's input tensors.
        gradients (int): parameter gradients after backward.
        optimizer_state (int): optimizer state after the step (AdamW: 2 x trainable).
        saved_activations (int): distinct storages autograd saved for backward (parameters
            and buffers excluded) alive at the end of forward.
        retained_after_forward (int): everything the forward allocated that is still alive
            when backward starts: saved activations, checkpointed blocks' inputs, outputs.
        peak (int): steady-state peak of live tensor memory (``max_memory_allocated``).
        peak_phase (str): the phase where that peak was reached.
        peak_op (str): the op that reached it.
        first_step_peak (int): the same for a first step (no optimizer state yet).
        phase_peaks (dict[str, int]): peak of live memory per phase, steady state.
        largest_allocation (int): the largest single block allocated during the step.
        largest_allocation_op (str): the op that allocated it.
        largest_allocation_shape (tuple[int, ...]): its tensor's shape.
        largest_allocation_dtype (str): its tensor's dtype.
        largest_allocation_phase (str): the phase it was allocated in.
        allocator_overhead (int): large blocks rounded to 2 MiB segments (CUDA), at the peak.
        device_context (int): the CUDA context (a stated constant), not in torch's counts.
        kernel_workspace (int): allocated inside kernel calls, outside torch's tensors: the
            largest fused-attention backward workspace and the cuBLAS workspaces (CUDA).
            Defaults to 0.
        ddp_buckets (int): DDP's gradient buckets of a distributed run (a copy of the
            trainable gradients). Defaults to 0.
        margin (int): kept free for what is not modelled (:data:`UNMODELLED_MARGIN` of the
            peak on a CUDA target). Defaults to 0.
        attention_kernels (dict[str, int]): fused-attention kernels chosen, with call
            counts. Defaults to an empty dict.
        notes (list[str]): what the estimate had to assume (meta fallbacks, where they were
            hit). Defaults to an empty list.
        description (dict[str, Any]): what was estimated (config, batch size, input size,
            keys). Defaults to an empty dict.
        seconds (float): time the estimate took. Defaults to 0.0.
    """
    mode: str
    target: str
    parameters: int
    trainable_parameters: int
    buffers: int
    inputs: int
    gradients: int
    optimizer_state: int
    saved_activations: int
    retained_after_forward: int
    peak: int
    peak_phase: str
    peak_op: str
    first_step_peak: int
    phase_peaks: Dict[str, int]
    largest_allocation: int
    largest_allocation_op: str
    largest_allocation_shape: Tuple[int, ...]
    largest_allocation_dtype: str
    largest_allocation_phase: str
    allocator_overhead: int
    device_context: int
    kernel_workspace: int = 0
    ddp_buckets: int = 0
    margin: int = 0
    attention_kernels: Dict[str, int] = field(default_factory=dict)
    notes: List[str] = field(default_factory=list)
    description: Dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def resident(self) -> int:
        """int: Parameters, buffers and inputs: alive before the step starts."""
        return self.parameters + self.buffers + self.inputs

    @property
    def total(self) -> int:
        """int: What the device must hold: peak, allocator rounding, the CUDA context, kernel
        workspaces and DDP's buckets (everything modelled)."""
        return (self.peak + self.allocator_overhead + self.device_context
                + self.kernel_workspace + self.ddp_buckets)

    @property
    def required(self) -> int:
        """int: :attr:`total` plus the margin for what is not modelled: the memory a GPU
        must have for the step (what the fit check compares)."""
        return self.total + self.margin

    def gib(self, name: str) -> float:
        """A byte field (or ``'total'``, ``'resident'``) in GiB.

        Args:
            name (str): The field or property, e.g. ``'peak'``.

        Returns:
            float: Its value in GiB.
        """
        return getattr(self, name) / GiB

    @property
    def peak_gib(self) -> float:
        """float: :attr:`peak` in GiB."""
        return self.peak / GiB

    @property
    def total_gib(self) -> float:
        """float: :attr:`total` in GiB."""
        return self.total / GiB

    def to_dict(self) -> Dict[str, Any]:
        """The fields as plain values, for JSON.

        Returns:
            dict[str, Any]: Every field, and ``total``.
        """
        out = asdict(self)
        out['total'] = self.total
        out['required'] = self.required
        return out

    def format_table(self) -> str:
        """The breakdown in GiB, one line per item, with the peak's components.

        Returns:
            str: The table, lines joined by newlines.
        """
        desc = ', '.join(f'{k}={v}' for k, v in self.description.items())
        rows: List[Tuple[str, str]] = [
            ('parameters', f'{self.gib("parameters"):9.3f}   trainable '
                           f'{self.gib("trainable_parameters"):.3f}'),
            ('buffers', f'{self.gib("buffers"):9.3f}'),
            ('inputs', f'{self.gib("inputs"):9.3f}'),
        ]
        if self.mode == 'train':
            rows += [
                ('gradients', f'{self.gib("gradients"):9.3f}'),
                ('optimizer state', f'{self.gib("optimizer_state"):9.3f}'),
                ('saved activations', f'{self.gib("saved_activations"):9.3f}   (distinct '
                                      'storages saved for backward)'),
                ('retained after forward', f'{self.gib("retained_after_forward"):9.3f}'),
            ]
        big = self.largest_allocation_shape
        rows += [
            ('largest allocation', f'{self.gib("largest_allocation"):9.3f}   '
                                   f'{self.largest_allocation_op} {tuple(big)} '
                                   f'{self.largest_allocation_dtype} '
                                   f'({self.largest_allocation_phase})'),
            ('peak (allocated)', f'{self.peak_gib:9.3f}   in {self.peak_phase}, at '
                                 f'{self.peak_op}'),
        ]
        if self.mode == 'train':
            phases = ', '.join(f'{k} {v / GiB:.2f}' for k, v in self.phase_peaks.items())
            rows.append(('  per phase', f'{phases}; first step {self.first_step_peak / GiB:.2f}'))
        if self.target == 'cuda':
            rows += [
                ('+ 2 MiB segment rounding', f'{self.gib("allocator_overhead"):9.3f}'),
                ('+ CUDA context', f'{self.gib("device_context"):9.3f}   (stated constant)'),
                ('+ kernel workspaces', f'{self.gib("kernel_workspace"):9.3f}   (attention '
                                        'backward, cuBLAS)'),
            ]
            if self.ddp_buckets:
                rows.append(('+ DDP gradient buckets', f'{self.gib("ddp_buckets"):9.3f}'))
            rows += [
                ('= device total', f'{self.total_gib:9.3f}'),
                ('+ unmodelled margin', f'{self.gib("margin"):9.3f}   ({UNMODELLED_MARGIN:.0%} '
                                        'of the peak: fragmentation, cuDNN, NCCL)'),
                ('= required', f'{self.gib("required"):9.3f}'),
            ]
        if self.attention_kernels:
            rows.append(('attention kernels', ', '.join(
                f'{k} x{v}' for k, v in sorted(self.attention_kernels.items()))))
        width = max(len(r[0]) for r in rows)
        lines = [f'{self.mode} step, target {self.target}' + (f' ({desc})' if desc else ''),
                 f'{"":<{width}}  {"GiB":>9}']
        lines += [f'{name:<{width}}  {value}' for name, value in rows]
        lines += [f'note: {n}' for n in self.notes]
        return '\n'.join(lines)


# the generic step ---------------------------------------------------------------------------
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


# DADF configs -------------------------------------------------------------------------------
def _config(cfg: Union[str, Any]) -> Any:
    from mmengine.config import Config
    return Config.fromfile(cfg) if isinstance(cfg, str) else cfg


def dadf_model_config(cfg: Any, *, img_size: Optional[int] = None) -> dict:
    """The config's model, with no SAM file (nothing is read) and, if given, another size.

    Args:
        cfg (Config): A loaded DADF config (not changed).
        img_size (int, optional): Another input side, set on the backbone and the data
            preprocessor. Defaults to None.

    Returns:
        dict: A deep copy of ``cfg.model`` with ``sam_checkpoint=None``.
    """
    model = copy.deepcopy(cfg.model.to_dict() if hasattr(cfg.model, 'to_dict') else cfg.model)
    model['sam_checkpoint'] = None
    if img_size is not None:
        model['backbone']['img_size'] = img_size
        if model.get('data_preprocessor'):
            model['data_preprocessor']['size'] = (img_size, img_size)
    return model


def config_img_size(model_cfg: dict) -> int:
    """Input side of a model config: the backbone's ``img_size``, else the preprocessor's.

    Args:
        model_cfg (dict): A DADF model config.

    Returns:
        int: The side in pixels (1024 when neither sets it).
    """
    size = model_cfg.get('backbone', {}).get('img_size')
    if size is None:
        size = (model_cfg.get('data_preprocessor') or {}).get('size', (1024, 1024))[0]
    return int(size)


def meta_batch(batch_size: int, img_size: int, device: Union[str, torch.device] = 'meta'
               ) -> Tuple[torch.Tensor, list]:
    """Inputs (B, 3, S, S) float32 and ``SegDataSample``s with a (1, S, S) long mask and
    ``gt_label`` alternating 0 / 1, on ``device`` (meta: no memory).

    Args:
        batch_size (int): The number of images B.
        img_size (int): Their side S.
        device (str | torch.device): Where the tensors are made. Defaults to 'meta'.

    Returns:
        tuple[Tensor, list[SegDataSample]]: The inputs and their samples.
    """
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    inputs = torch.zeros(batch_size, 3, img_size, img_size, device=device)
    shape = (img_size, img_size)
    samples = []
    for i in range(batch_size):
        mask = torch.zeros(1, img_size, img_size, dtype=torch.long, device=device)
        samples.append(SegDataSample(
            gt_sem_seg=PixelData(data=mask),
            metainfo=dict(gt_label=i % 2, img_shape=shape, ori_shape=shape, pad_shape=shape,
                          padding_size=[0, 0, 0, 0])))
    return inputs, samples


def build_optimizer(model: nn.Module, optim_wrapper_cfg: Optional[dict], *, target: str,
                    notes: List[str]) -> torch.optim.Optimizer:
    """The optimizer mmengine would build for the config (AdamW if it names none).

    ``AmpOptimWrapper`` refuses to be built without a GPU; its optimizer is the same, so
    the plain wrapper is built instead (the loss scaler's state is a few scalars). When the
    config does not choose ``foreach``, the target's default is set: the multi-tensor
    implementation on CUDA (with its temporaries), the per-tensor loop on a CPU.

    Args:
        model (nn.Module): The model whose parameters it optimises.
        optim_wrapper_cfg (dict, optional): The config's ``optim_wrapper``; None for AdamW
            (lr 1e-4, weight decay 0.01).
        target (str): ``'cuda'`` or ``'cpu'``, for the ``foreach`` default.
        notes (list[str]): Receives a line for each substitution made.

    Returns:
        torch.optim.Optimizer: The optimizer (not its wrapper).
    """
    from mmengine.optim import build_optim_wrapper
    cfg = copy.deepcopy(dict(optim_wrapper_cfg or dict(
        type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.01))))
    if cfg.get('type', 'OptimWrapper') != 'OptimWrapper':
        notes.append(f"optim_wrapper type {cfg['type']!r} built as 'OptimWrapper' "
                     '(same optimizer; no GPU needed)')
        cfg = dict(type='OptimWrapper', optimizer=cfg['optimizer'],
                   **{k: v for k, v in cfg.items()
                      if k in ('paramwise_cfg', 'constructor', 'clip_grad')})
    with _quiet_mmengine():  # it logs a line for every frozen parameter
        optimizer = build_optim_wrapper(model, cfg).optimizer
    for group in optimizer.param_groups:
        if group.get('foreach') is None and 'foreach' in group:
            group['foreach'] = target == 'cuda'
    return optimizer


@contextmanager
def _quiet_mmengine() -> Iterator[None]:
    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def estimate_config_memory(cfg: Union[str, Any],
                           *,
                           batch_size: Optional[int] = None,
                           img_size: Optional[int] = None,
                           mode: str = 'train',
                           target: str = 'cuda',
                           distributed: bool = False,
                           progress: Optional[Callable[[str], None]] = None
                           ) -> MemoryEstimate:
    """Estimate one step of a DADF config as ``tools/train.py`` / ``tools/test.py`` run it.

    The model is built on meta with ``sam_checkpoint=None``; training calls
    ``model.loss(inputs, data_samples)``, ``backward`` of ``model.parse_losses`` and the
    config's optimizer; inference calls ``model.predict``.

    Args:
        cfg (str | Config): a config file or a loaded mmengine ``Config``.
        batch_size (int, optional): images per step; None for the train dataloader's.
            Defaults to None.
        img_size (int, optional): input side; overrides ``model.backbone.img_size`` and
            ``model.data_preprocessor.size``. Defaults to None.
        mode (str): ``'train'`` or ``'infer'``. Defaults to 'train'.
        target (str): ``'cuda'`` or ``'cpu'``. Defaults to 'cuda'.
        distributed (bool): one process of a DDP run (its gradient buckets counted).
            Defaults to False.
        progress (Callable[[str], None], optional): called with a line per stage.
            Defaults to None.

    Returns:
        MemoryEstimate: the breakdown, ``description`` naming the config's keys.
    """
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS
    from mmseg.utils import register_all_modules

    import dadf_mm  # noqa: F401  (registers DADF's modules)
    register_all_modules(init_default_scope=False)
    cfg = _config(cfg)
    model_cfg = dadf_model_config(cfg, img_size=img_size)
    size = config_img_size(model_cfg)
    if batch_size is None:
        batch_size = int(cfg.get('train_dataloader', {}).get('batch_size', 1))
    say = progress or (lambda line: None)
    say(f'building the model on meta ({mode}, batch {batch_size}, {size} px)')
    with DefaultScope.overwrite_default_scope('mmseg'), torch.device('meta'):
        model = MODELS.build(model_cfg)
    notes: List[str] = []
    noise = getattr(model, 'noise', None)
    if getattr(noise, 'generator', None) == 'device':
        # torch.Generator(device='meta') does not exist; drawing on the CPU and copying
        # makes the same (B, 3, S, S) tensor on the device, less the per-image draws
        noise.generator = 'cpu'
        notes.append("noise generator='device' estimated as 'cpu' (a meta tensor has no "
                     'random generator): the per-image noise draws on the device, '
                     f'{batch_size} x 3 x {size} x {size} float32, are not counted')
    optimizer = None
    if mode == 'train':
        optimizer = build_optimizer(model, cfg.get('optim_wrapper'), target=target, notes=notes)
    inputs, samples = meta_batch(batch_size, size)

    def train_step() -> torch.Tensor:
        loss, _ = model.parse_losses(model.loss(inputs, samples))
        return loss

    def infer_step() -> Any:
        return model.predict(inputs, samples)

    backbone = model_cfg.get('backbone', {})
    description = dict(
        config=getattr(cfg, 'filename', None) or '<config>', batch_size=batch_size,
        img_size=size, arch=backbone.get('arch', 'vit_h') if isinstance(
            backbone.get('arch', 'vit_h'), str) else 'custom',
        attn_impl=backbone.get('attn_impl', 'sdpa'),
        compute_dtype=backbone.get('compute_dtype', 'float32'),
        grad_checkpointing=backbone.get('grad_checkpointing', False),
        noise_mode=(model_cfg.get('noise') or {}).get('mode', 'batched'))
    say('running one step on meta')
    with autocast_on_meta():
        estimate = estimate_step_memory(
            model, train_step if mode == 'train' else infer_step, mode=mode,
            optimizer=optimizer, inputs=(inputs, samples), target=target,
            distributed=distributed, description=description)
    estimate.notes = notes + estimate.notes
    return estimate

