"""What a memory estimate holds (:class:`MemoryEstimate`) and the allocator it models.

Realism for a CUDA target: every block rounded to the caching allocator's 512 B, and two
figures not in PyTorch's counts, shown separately: the rounding of large blocks into 2 MiB
segments (a floor for ``max_memory_reserved``; fragmentation comes on top) and the CUDA
context (about 0.5 GiB per process, driver and kernels; it varies with the driver and the
loaded libraries). What cannot be modelled (the allocator's fragmentation, cuDNN's
workspaces, NCCL's buffers) is a stated margin, :data:`UNMODELLED_MARGIN` of the peak, on
top: :attr:`MemoryEstimate.required` is what a GPU must have.
"""
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Tuple

from .memory_tracker import AllocatorModel

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
