"""Make a meta-device run take the memory decisions a real device would.

Two things a meta tensor does not do by itself, both decided above autograd (so the
autograd graph, its saved tensors and its gradients are those of the real device):

* **Fused attention.** ``F.scaled_dot_product_attention`` picks its kernel in C++ without
  the dispatcher (``_fused_sdp_choice_stub``), and meta has no stub: it always takes the
  math path, which materialises the (batch, heads, L, L) scores. :class:`TargetEmulation`
  intercepts the call and runs the kernel the target would choose, through its own aten op
  (which has meta kernels and a derivative): on CUDA flash attention for fp16 / bf16
  without a mask, else the memory-efficient kernel (its mask is padded to a multiple of 16
  keys and expanded, as ``preprocess_mask`` does; a mask that needs a gradient gets one); on
  a CPU the flash kernel, except when the mask needs a gradient (it has no derivative for
  the mask, so the CPU takes the math path). The rules follow ``sdp_utils`` of PyTorch 2.x.
* **Autocast.** Meta tensors carry no autocast dispatch key, so ``torch.autocast`` does
  nothing to them. The emulation reads the *CPU* autocast state (``torch.autocast('cpu',
  dtype)`` can be entered on any machine, and ``torch.utils.checkpoint`` saves and restores
  it for the recomputation in backward) and applies CUDA autocast's op lists to meta
  tensors: matrix products and convolutions in the autocast dtype, norms, softmax,
  reductions and losses in float32, everything else as its inputs are. Its weight cache
  is not modelled (a trainable weight used twice in one region is cast twice).

A torch-function mode does not reach into backward (the autograd engine does not carry
it), where non-reentrant activation checkpointing recomputes its blocks. While the mode is
active, ``torch.utils.checkpoint.checkpoint`` is wrapped so that the recomputation runs
under the same emulation (through checkpoint's ``context_fn``); code that imported the
function itself before (``from torch.utils.checkpoint import checkpoint``) is not covered,
and checkpoint's own check then stops on the mismatching recomputed tensors.
"""
import functools
from typing import Any, Callable, Dict, Optional, Tuple

import torch
import torch.nn.functional as F
import torch.utils.checkpoint as torch_checkpoint
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_map

from ..models.utils import Reentrant

TARGETS = ('cuda', 'cpu')
MEM_EFFICIENT_MASK_ALIGNMENT = 16  # sdp_utils: keys of the efficient kernel's bias

# CUDA autocast's op lists (aten/src/ATen/autocast_mode.cpp), by Python function name.
LOWER_PRECISION_OPS = frozenset({
    'conv1d', 'conv2d', 'conv3d', 'conv_transpose1d', 'conv_transpose2d', 'conv_transpose3d',
    'convolution', '_convolution', 'conv_tbc', 'prelu', 'addmm', 'addmv', 'addr', 'matmul',
    '__matmul__', '__rmatmul__', 'einsum', 'mm', 'mv', 'linear', 'addbmm', 'baddbmm', 'bmm',
    'chain_matmul', 'multi_dot', 'scaled_dot_product_attention'})
FP32_OPS = frozenset({
    'acos', 'asin', 'cosh', 'erfinv', 'exp', 'expm1', 'log', 'log10', 'log2', 'log1p',
    'reciprocal', 'rsqrt', 'sinh', 'tan', 'pow', '__pow__', 'softplus', 'layer_norm',
    'group_norm', 'norm', 'cosine_similarity', 'poisson_nll_loss', 'cosine_embedding_loss',
    'nll_loss', 'hinge_embedding_loss', 'kl_div', 'l1_loss', 'smooth_l1_loss', 'huber_loss',
    'mse_loss', 'margin_ranking_loss', 'multilabel_margin_loss', 'soft_margin_loss',
    'triplet_margin_loss', 'multi_margin_loss', 'binary_cross_entropy_with_logits', 'dist',
    'pdist', 'cdist', 'renorm', 'logsumexp', 'upsample_nearest1d', 'upsample_nearest2d',
    'upsample_nearest3d', 'upsample_linear1d', 'upsample_bilinear2d', 'upsample_trilinear3d',
    'upsample_bicubic2d'})
FP32_DTYPE_ARG_OPS = frozenset({'prod', 'softmax', 'log_softmax', 'cumprod', 'cumsum', 'sum'})
LOW_DTYPES = (torch.float16, torch.bfloat16)


def attention_backward_workspace(backend: str, query: torch.Tensor, key: torch.Tensor,
                                 target: str = 'cuda') -> int:
    """Bytes a fused-attention backward allocates inside its kernel call (not an output,
    so no meta kernel shows it): float32 accumulators of the input gradients.

    CUDA flash attention accumulates dQ in float32, its rows rounded up to 128 and its head
    dimension to 32; the memory-efficient kernel may accumulate dQ, dK and dV in float32
    (``workspace_size()`` of its backward, an upper bound here). CPU kernels and the math
    path allocate nothing outside their outputs.

    Args:
        backend (str): the kernel (:meth:`TargetEmulation.choose`).
        query (Tensor): the query (B, heads, L, E).
        key (Tensor): the key (B, heads, S, E).
        target (str): ``'cuda'`` or ``'cpu'``. Defaults to 'cuda'.

    Returns:
        int: the workspace in bytes (0 where the kernel has none).
    """
    if target != 'cuda' or backend not in ('flash', 'efficient'):
        return 0
    batch, heads, queries, dim = query.shape[0], query.shape[1], query.shape[2], query.shape[3]
    keys = key.shape[2]
    dim = -(-dim // 32) * 32
    rows = -(-queries // 128) * 128
    if backend == 'efficient':
        rows += 2 * -(-keys // 128) * 128
    return 4 * batch * heads * rows * dim


def _is_meta(args: Any, kwargs: Dict[str, Any]) -> bool:
    found = []
    tree_map(lambda t: found.append(t.device.type == 'meta')
             if isinstance(t, torch.Tensor) else None, (args, kwargs))
    return bool(found) and all(found)


def _cast(args: Any, kwargs: Dict[str, Any], cond: Callable[[torch.Tensor], bool],
          dtype: torch.dtype):
    def fn(t):
        return t.to(dtype) if isinstance(t, torch.Tensor) and cond(t) else t
    return tree_map(fn, args), tree_map(fn, kwargs)


class TargetEmulation(TorchFunctionMode):
    """Fused-attention kernel choice and autocast of ``target`` for meta tensors.

    Args:
        target (str): ``'cuda'`` or ``'cpu'``: whose attention kernels to choose.
            Defaults to 'cuda'.
        autocast (bool): emulate autocast on meta (from the CPU autocast state).
            Defaults to True.
        backends (dict[str, int], optional): counts the attention kernels chosen, by
            kernel (recomputations in backward excluded); filled in place. None for a new
            dict. Defaults to None.
        cover_checkpoints (bool): also emulate inside the recomputations of
            non-reentrant activation checkpoints (``torch.utils.checkpoint`` is patched
            while the mode is active). Defaults to True.
    """

    def __init__(self, *, target: str = 'cuda', autocast: bool = True,
                 backends: Optional[Dict[str, int]] = None,
                 cover_checkpoints: bool = True) -> None:
        super().__init__()
        if target not in TARGETS:
            raise ValueError(f'target must be one of {TARGETS}, got {target!r}')
        self.target = target
        self.autocast = autocast
        self.backends: Dict[str, int] = {} if backends is None else backends
        self.backward_workspace = 0  # bytes: the largest fused-attention backward workspace
        self.cover_checkpoints = cover_checkpoints
        self._original_checkpoint: Optional[Callable] = None

    def __enter__(self):
        if self.cover_checkpoints:
            self._original_checkpoint = torch_checkpoint.checkpoint
            torch_checkpoint.checkpoint = self._wrap_checkpoint(self._original_checkpoint)
        return super().__enter__()

    def __exit__(self, *exc):
        try:
            return super().__exit__(*exc)
        finally:
            if self._original_checkpoint is not None:
                torch_checkpoint.checkpoint = self._original_checkpoint
                self._original_checkpoint = None

    def recomputation(self) -> 'TargetEmulation':
        """The same emulation for a recomputation in backward (its kernels not counted).

        Returns:
            TargetEmulation: A mode of the same target and autocast, with its own counts and
            without checkpoint patching.
        """
        return TargetEmulation(target=self.target, autocast=self.autocast,
                               cover_checkpoints=False)

    def _wrap_checkpoint(self, original: Callable) -> Callable:
        @functools.wraps(original)
        def checkpoint(function, *args, use_reentrant=None, context_fn=None, **kwargs):
            if use_reentrant is not False:
                if context_fn is not None:
                    kwargs['context_fn'] = context_fn
                return original(function, *args, use_reentrant=use_reentrant, **kwargs)
            user_fn = context_fn or torch_checkpoint.noop_context_fn

            def contexts() -> Tuple[Any, Any]:
                forward_ctx, recompute_ctx = user_fn()
                emulation = self.recomputation()
                return forward_ctx, Reentrant(lambda: recompute_ctx, lambda: emulation)

            return original(function, *args, use_reentrant=False, context_fn=contexts,
                            **kwargs)
        return checkpoint

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = dict(kwargs or {})
        name = getattr(func, '__name__', '')
        if not (name in LOWER_PRECISION_OPS or name in FP32_OPS or name in FP32_DTYPE_ARG_OPS):
            return func(*args, **kwargs)
        if not _is_meta(args, kwargs):
            return func(*args, **kwargs)
        if self.autocast and torch.is_autocast_enabled('cpu'):
            low = torch.get_autocast_dtype('cpu')
            if name in LOWER_PRECISION_OPS:
                args, kwargs = _cast(args, kwargs, lambda t: t.is_floating_point()
                                     and t.dtype not in (low, torch.float64), low)
            elif name in FP32_OPS:
                args, kwargs = _cast(args, kwargs, lambda t: t.dtype in LOW_DTYPES,
                                     torch.float32)
            elif kwargs.get('dtype') is None and any(
                    isinstance(t, torch.Tensor) and t.dtype in LOW_DTYPES for t in args[:1]):
                kwargs['dtype'] = torch.float32
        if name == 'scaled_dot_product_attention':
            return self.attention(*args, **kwargs)
        return func(*args, **kwargs)

    # attention ---------------------------------------------------------------------------
    def choose(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor,
               mask: Optional[torch.Tensor], dropout_p: float, enable_gqa: bool) -> str:
        """The kernel ``target`` runs: ``'flash'``, ``'efficient'``, ``'cpu_flash'`` or
        ``'math'``.

        Args:
            q (Tensor): The query (B, heads, L, E).
            k (Tensor): The key (B, heads, S, E).
            v (Tensor): The value (B, heads, S, Ev).
            mask (Tensor, optional): The attention mask, None for none.
            dropout_p (float): The dropout probability (does not change the choice).
            enable_gqa (bool): Grouped-query attention (only the math kernel has it).

        Returns:
            str: The kernel's name.
        """
        if q.dim() != 4 or k.dim() != 4 or v.dim() != 4 or enable_gqa:
            return 'math'
        head, head_v = q.shape[-1], v.shape[-1]
        if k.shape[-1] != head or not (q.dtype == k.dtype == v.dtype):
            return 'math'
        if self.target == 'cpu':
            mask_grad = mask is not None and mask.requires_grad and torch.is_grad_enabled()
            if head_v == head and not mask_grad and q.dtype in (
                    torch.float32, torch.float64, *LOW_DTYPES):
                return 'cpu_flash'
            return 'math'
        if (mask is None and q.dtype in LOW_DTYPES and head_v == head and head % 8 == 0
                and head <= 256):
            return 'flash'
        align = 8 if q.dtype in LOW_DTYPES else 4
        if q.dtype in (torch.float32, *LOW_DTYPES) and head % align == 0 and head_v % align == 0:
            return 'efficient'
        return 'math'

    def attention(self, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                  attn_mask: Optional[torch.Tensor] = None, dropout_p: float = 0.0,
                  is_causal: bool = False, scale: Optional[float] = None,
                  enable_gqa: bool = False) -> torch.Tensor:
        """``F.scaled_dot_product_attention`` through the aten op of the kernel
        :meth:`choose` picks (it has meta kernels and a derivative, so autograd saves what
        that kernel saves); the choice is counted in ``backends``.

        Args:
            query (Tensor): The query (B, heads, L, E).
            key (Tensor): The key (B, heads, S, E).
            value (Tensor): The value (B, heads, S, Ev).
            attn_mask (Tensor, optional): The attention mask (boolean or additive).
                Defaults to None.
            dropout_p (float): The dropout probability. Defaults to 0.0.
            is_causal (bool): Causal masking. Defaults to False.
            scale (float, optional): The scale; None for ``1 / sqrt(E)``. Defaults to None.
            enable_gqa (bool): Grouped-query attention. Defaults to False.

        Returns:
            Tensor: The attention output (B, heads, L, Ev).
        """
        backend = self.choose(query, key, value, attn_mask, dropout_p, enable_gqa)
        self.backends[backend] = self.backends.get(backend, 0) + 1
        if torch.is_grad_enabled() and any(t.requires_grad for t in (query, key, value)):
            self.backward_workspace = max(self.backward_workspace, attention_backward_workspace(
                backend, query, key, self.target))
        if backend == 'flash':
            return torch.ops.aten._scaled_dot_product_flash_attention(
                query, key, value, dropout_p, is_causal, False, scale=scale)[0]
        if backend == 'efficient':
            grad = torch.is_grad_enabled() and any(
                t.requires_grad for t in (query, key, value))
            mask = attn_mask
            if mask is not None:
                if mask.dtype == torch.bool:
                    mask = torch.zeros_like(mask, dtype=query.dtype).masked_fill(
                        ~mask, float('-inf'))
                keys = mask.shape[-1]
                pad = -keys % MEM_EFFICIENT_MASK_ALIGNMENT
                if pad:
                    mask = F.pad(mask, (0, pad))[..., :keys]
                mask = mask.expand(query.shape[0], query.shape[1], query.shape[2],
                                   key.shape[2])
            return torch.ops.aten._scaled_dot_product_efficient_attention(
                query, key, value, mask, grad, dropout_p, is_causal, scale=scale)[0]
        if backend == 'cpu_flash':
            return torch.ops.aten._scaled_dot_product_flash_attention_for_cpu(
                query, key, value, dropout_p, is_causal, attn_mask=attn_mask, scale=scale)[0]
        return F.scaled_dot_product_attention(query, key, value, attn_mask=attn_mask,
                                              dropout_p=dropout_p, is_causal=is_causal,
                                              scale=scale, enable_gqa=enable_gqa)
