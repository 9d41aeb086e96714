"""SAM's ViT image encoder, frozen, with a Multiscale Adapter before every block (eq. 1).

``Z = L_n(... L_2(R(L_1(R(x_p)))))``, then SAM's neck to 256 channels and the task head
``T`` (a 1x1 convolution, identity-initialised), so at initialisation the output equals
SAM's image embedding exactly. Patch embedding, position embedding, blocks and SAM's
neck are frozen; adapters and ``T`` train.

Fast paths (each a key, each off by default; docs/performance.md has the numbers):
``attn_impl='sdpa_folded'``, ``compute_dtype='bfloat16'`` (autocast inside the encoder
only, float32 output), ``grad_checkpointing`` (the recomputation leaves BatchNorm's running
statistics alone: one update per step), ``tangent_dtype`` (a float32 pass whose
forward-mode tangent runs in bfloat16), ``compile`` (each block and adapter compiled
on its own). Given an input direction, :meth:`SAMViT.forward` also returns the features'
derivative along it, from the same traversal (DADF's ``noise=dict(mode='jvp')``).

A float32 encoder is float32 on every device: its forward pass, recomputation and
backward pass run with TF32 off (``utils.precision``; why: docs/performance.md#float32-is-float32).
"""
from contextlib import ExitStack, nullcontext
from functools import partial
from typing import ContextManager, Dict, Optional, Sequence, Tuple, Union

import torch
import torch.utils.checkpoint as cp
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from segment_anything.modeling.common import LayerNorm2d
from torch import nn

from ..layers import LoRALinear, MultiscaleAdapter, PatchEmbed, PromptLayer, ViTBlock
from ..layers.attention import ATTENTION_IMPLS
from ..layers.jvp import as_pair, conv_jvp, layer_norm_jvp
from ..utils import (
    Reentrant,
    at_least_float32,
    exact_float32,
    exact_float32_backward,
    running_stats_frozen,
)
from ..utils.sam_checkpoint import SAM_ARCHS, check_state_dict, fit_encoder_state_dict

SAM_PRETRAIN_SIZE = 1024
COMPUTE_DTYPES = ('float32', 'bfloat16', 'float16')
ADAPTER_TYPES = {'MultiscaleAdapter': MultiscaleAdapter, 'PromptLayer': PromptLayer}


@MODELS.register_module()
class SAMViT(BaseModule):
    """SAM ViT-B/L/H image encoder with Multiscale Adapters and a task head.

    Args:
        arch (str | dict): ``'vit_b'``, ``'vit_l'``, ``'vit_h'`` or a dict with
            ``embed_dim``, ``depth``, ``num_heads``, ``global_attn_indexes`` (a
            SAM-architecture model of any size). Defaults to 'vit_h'.
        img_size (int): input size (square), a multiple of ``patch_size``. Position
            embeddings are resized on load if not 1024. Defaults to 1024.
        patch_size (int): patch size of the patch embedding (SAM's 16). Defaults to 16.
        window_size (int): window size of the windowed-attention blocks (SAM's 14).
            Defaults to 14.
        out_channels (int): channels of SAM's neck and of the output (SAM's 256).
            Defaults to 256.
        adapter (dict, optional): keyword arguments of :class:`MultiscaleAdapter`
            (``variant`` 'A'-'D', ``inner_channels``, ``skip``, ``norm_cfg``), or ``None``
            for no adapters; ``type='PromptLayer'`` (with ``reduction``) puts the
            SAM+Prompt baseline's learnable prompt layers there instead. Defaults to
            ``dict(variant='A', inner_channels=256)``.
        task_head (bool): add the identity-initialised 1x1 task head ``T``.
            Defaults to True.
        attn_impl (str): ``'sdpa'`` (fused, bias materialised as a mask), ``'sdpa_folded'``
            (fused, bias folded into the dot product: no (N, HW, HW) tensor) or
            ``'reference'`` (SAM's explicit softmax). Defaults to 'sdpa'.
        grad_checkpointing (bool | int): recompute activations of blocks in backward:
            ``True`` for all, an int for the first N blocks, ``False`` for none.
            Defaults to False.
        frozen (bool): freeze SAM's own parameters (the paper's setting). Defaults to True.
        lora (dict, optional): ``dict(rank=4, alpha=4)`` adds low-rank updates to every
            block's frozen ``qkv`` projection (the SAM+LoRA baseline), ``None`` for none.
            Defaults to None.
        compute_dtype (str): ``'float32'`` (also inside an outer autocast such as
            mmengine's ``AmpOptimWrapper``), ``'bfloat16'`` or ``'float16'``: the encoder
            runs under ``torch.autocast`` of that dtype. The output is always float32.
            Defaults to 'float32'.
        tangent_dtype (str, optional): dtype of the forward-mode tangent (DADF's
            ``noise=dict(mode='jvp')``): ``'bfloat16'`` or ``'float16'`` with a float32
            encoder computes ``J_F(x) e`` in that dtype while ``F`` and every kink stay
            float32. None: the compute dtype. Defaults to None.
        compile (bool | dict): ``torch.compile`` every block and adapter (``True``, or a
            dict of ``torch.compile`` keyword arguments); ``False`` for eager.
            Defaults to False.
        init_cfg (dict, optional): mmengine init config. Defaults to None.
    """

    def __init__(
        self,
        *,
        arch: Union[str, dict] = 'vit_h',
        img_size: int = SAM_PRETRAIN_SIZE,
        patch_size: int = 16,
        window_size: int = 14,
        out_channels: int = 256,
        adapter: Optional[dict] = dict(variant='A', inner_channels=256),
        task_head: bool = True,
        attn_impl: str = 'sdpa',
        grad_checkpointing: Union[bool, int] = False,
        frozen: bool = True,
        lora: Optional[dict] = None,
        compute_dtype: str = 'float32',
        tangent_dtype: Optional[str] = None,
        compile: Union[bool, dict] = False,
        init_cfg: Optional[dict] = None,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if compute_dtype not in COMPUTE_DTYPES:
            raise ValueError(f'compute_dtype must be one of {COMPUTE_DTYPES}, '
                             f'got {compute_dtype!r}')
        if img_size % patch_size:  # else the position embedding and the tokens disagree
            raise ValueError(
                f'img_size {img_size} is not a multiple of the patch size {patch_size}: '
                f'set model.backbone.img_size to one (e.g. '
                f'{max(img_size // patch_size, 1) * patch_size}) and '
                'model.data_preprocessor.size to the same')
        self.compute_dtype = compute_dtype
        self.tangent_dtype = None
        self.set_tangent_dtype(tangent_dtype)
        if isinstance(arch, str):
            if arch not in SAM_ARCHS:
                raise ValueError(f'arch must be one of {sorted(SAM_ARCHS)} or a dict, got {arch!r}')
            self.arch_name, spec = arch, SAM_ARCHS[arch]
        else:
            self.arch_name, spec = 'custom', dict(arch)
        embed_dim, depth = spec['embed_dim'], spec['depth']
        global_attn: Sequence[int] = spec['global_attn_indexes']
        grid = img_size // patch_size
        self.img_size = img_size
        self.embed_dim = embed_dim
        self.depth = depth

        self.patch_embed = PatchEmbed(patch_size=patch_size, embed_dim=embed_dim)
        self.pos_embed = nn.Parameter(torch.zeros(1, grid, grid, embed_dim))
        self.blocks = nn.ModuleList(
            ViTBlock(
                dim=embed_dim,
                num_heads=spec['num_heads'],
                norm_layer=partial(nn.LayerNorm, eps=1e-6),
                window_size=0 if i in global_attn else window_size,
                input_size=(grid, grid),
                attn_impl=attn_impl) for i in range(depth))
        self.neck = nn.Sequential(
            nn.Conv2d(embed_dim, out_channels, kernel_size=1, bias=False),
            LayerNorm2d(out_channels),
            nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1, bias=False),
            LayerNorm2d(out_channels),
        )
        self.adapters = None
        if adapter is not None:
            adapter = dict(adapter)
            kind = adapter.pop('type', 'MultiscaleAdapter')
            if kind not in ADAPTER_TYPES:
                raise ValueError(f'adapter type must be one of {sorted(ADAPTER_TYPES)}, '
                                 f'got {kind!r}')
            self.adapters = nn.ModuleList(
                ADAPTER_TYPES[kind](dim=embed_dim, **adapter) for _ in range(depth))
        self.task_head = None
        if task_head:
            self.task_head = nn.Conv2d(out_channels, out_channels, kernel_size=1)
            with torch.no_grad():
                self.task_head.weight.copy_(
                    torch.eye(out_channels).view(out_channels, out_channels, 1, 1))
                self.task_head.bias.zero_()
        self.frozen = frozen
        if frozen:
            for module in self.sam_modules():
                module.requires_grad_(False)
            self.pos_embed.requires_grad_(False)
        if lora is not None:
            for block in self.blocks:
                block.attn.qkv = LoRALinear.from_linear(block.attn.qkv, **lora)
        self.grad_checkpointing_blocks = 0
        self.set_grad_checkpointing(grad_checkpointing)
        self.compiled = False
        if compile:
            self.compile_blocks(**(dict(compile) if isinstance(compile, dict) else {}))

    def sam_modules(self) -> Tuple[nn.Module, ...]:
        """The modules whose weights come from SAM (frozen by default).

        Returns:
            tuple[nn.Module, ...]: The patch embedding, the blocks and SAM's neck.
        """
        return (self.patch_embed, self.blocks, self.neck)

    def set_grad_checkpointing(self, enable: Union[bool, int] = True) -> None:
        """Recompute the activations of all (``True``) or the first N blocks in backward.

        Args:
            enable (bool | int): ``True`` for all blocks, ``False`` for none, an int for the
                first N (clipped to the depth). Defaults to True.
        """
        if isinstance(enable, bool):
            self.grad_checkpointing_blocks = self.depth if enable else 0
        else:
            self.grad_checkpointing_blocks = max(0, min(int(enable), self.depth))

    def compile_blocks(self, **options) -> None:
        """``torch.compile`` each adapter and block in place (parameter names unchanged).

        Blocks of one kind (windowed, global) share a compiled graph, so compiling costs
        a few graphs, not one per block.

        Args:
            **options: Keyword arguments of ``torch.compile``.
        """
        modules = list(self.blocks) + list(self.adapters or [])
        for module in modules:
            module.compile(**options)
        self.compiled = True

    def set_tangent_dtype(self, dtype: Optional[str]) -> None:
        """Compute the forward-mode tangent in ``dtype`` (None: the compute dtype).

        Args:
            dtype (str, optional): ``'float32'``, ``'bfloat16'``, ``'float16'`` or None.
                Only a float32 encoder can carry a tangent of another dtype.
        """
        if dtype is not None and dtype not in COMPUTE_DTYPES:
            raise ValueError(f'tangent_dtype must be one of {COMPUTE_DTYPES} or None, '
                             f'got {dtype!r}')
        if dtype not in (None, self.compute_dtype) and self.compute_dtype != 'float32':
            raise ValueError(
                f'tangent_dtype={dtype!r} needs compute_dtype=\'float32\' (under '
                f'{self.compute_dtype} autocast the tangent is {self.compute_dtype}); set '
                'model.backbone.tangent_dtype=None or compute_dtype=\'float32\'')
        self.tangent_dtype = dtype

    def set_attn_impl(self, impl: str) -> None:
        """Switch every block's attention path (one of ``ATTENTION_IMPLS``).

        Args:
            impl (str): ``'sdpa'``, ``'sdpa_folded'`` or ``'reference'``.
        """
        if impl not in ATTENTION_IMPLS:
            raise ValueError(f'attention impl must be one of {ATTENTION_IMPLS}, got {impl!r}')
        for block in self.blocks:
            block.attn.impl = impl

    def sam_state_shapes(self) -> Dict[str, torch.Size]:
        """Shapes of the parameters that a SAM image-encoder state dict provides.

        Returns:
            dict[str, torch.Size]: Key -> shape, without the adapters, the task head and
            the LoRA updates.
        """
        own = ('adapters.', 'task_head.')
        return {k: v.shape for k, v in self.state_dict().items()
                if not k.startswith(own) and '.lora_' not in k}

    def load_sam_weights(self, state: Dict[str, torch.Tensor], *, source: str = '<state dict>'
                         ) -> None:
        """Load SAM's ``image_encoder.*`` weights (prefix removed), resizing positions.

        Args:
            state (dict[str, Tensor]): The image encoder's entries of a SAM state dict.
            source (str): Where they come from, for error messages.
                Defaults to '<state dict>'.

        Raises:
            SAMCheckpointError: The state dict is of another architecture.
        """
        expected = self.sam_state_shapes()
        check_state_dict(expected=expected, found=state, path=source, part='image encoder',
                         arch=self.arch_name, resizable=[
                             k for k in expected if k == 'pos_embed' or 'rel_pos' in k])
        self.load_state_dict(fit_encoder_state_dict(state, expected), strict=False)

    def precision(self, device_type: str) -> ContextManager:
        """The numeric context the encoder runs in: for float32, autocast off and TF32 off
        (:func:`~..utils.exact_float32`); else autocast of ``compute_dtype``, the user's
        TF32 settings untouched.

        Args:
            device_type (str): The input's device type, e.g. ``'cuda'``.

        Returns:
            ContextManager: The context to run the encoder in.
        """
        if self.compute_dtype == 'float32':
            stack = ExitStack()
            stack.enter_context(torch.autocast(device_type, enabled=False))
            stack.enter_context(exact_float32())
            return stack
        return torch.autocast(device_type, dtype=getattr(torch, self.compute_dtype))

    def _checkpoint(self, index: int, *args):
        def context_fn() -> Tuple[ContextManager, ContextManager]:
            # the recomputation in backward: in the encoder's precision, leaving the
            # adapter's BatchNorm statistics as the forward pass left them (one update
            # per step); entered once per recomputation (Reentrant)
            adapter = self.adapters[index] if self.adapters is not None else None
            return nullcontext(), Reentrant(
                lambda: self.precision(args[0].device.type),
                lambda: running_stats_frozen(adapter) if adapter is not None else None)

        return cp.checkpoint(self._stage, index, *args, use_reentrant=False,
                             context_fn=context_fn)

    def _output(self, x: torch.Tensor) -> torch.Tensor:
        """float32 output (float64 stays float64); a float32 encoder's backward pass also
        runs without TF32."""
        x = at_least_float32(x)
        if self.compute_dtype == 'float32':
            x = exact_float32_backward(x)
        return x

    def _stage(self, index: int, x: torch.Tensor, tangent: Optional[torch.Tensor],
               step: Optional[float]) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Adapter ``index`` (if any) then block ``index``, carrying the tangent if any."""
        if self.adapters is not None:
            x, tangent = as_pair(self.adapters[index](x, tangent, step))
        return as_pair(self.blocks[index](x, tangent))

    def _head(self, x: torch.Tensor, tangent: Optional[torch.Tensor]
              ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """SAM's neck and the task head on the (B, H, W, C) token grid, to (B, C', H, W),
        carrying the tangent if any."""
        x = x.permute(0, 3, 1, 2)
        if tangent is not None:
            tangent = tangent.permute(0, 3, 1, 2)
        layers = list(self.neck) + ([self.task_head] if self.task_head is not None else [])
        for layer in layers:
            if tangent is not None and isinstance(layer, nn.Conv2d):
                tangent = conv_jvp(layer, tangent)
            elif tangent is not None:  # SAM's LayerNorm2d, over channels
                tangent = layer_norm_jvp(x, tangent, layer.weight, layer.eps,
                                         dim=1).to(tangent.dtype)
            x = layer(x)
        return x, tangent

    def forward(self, x: torch.Tensor, tangent: Optional[torch.Tensor] = None,
                step: Optional[float] = None
                ) -> Union[Tuple[torch.Tensor], Tuple[Tuple[torch.Tensor], torch.Tensor]]:
        """Features ``F(x)``; with ``tangent``, also ``J_F(x) tangent`` from the same pass.

        One traversal: with a tangent, each layer carries it alongside its activations, at
        the tangent's own scale, so the derivative keeps its relative precision under
        bf16; ``F`` is the same with and without it. With ``step``, the adapters' ReLUs
        pass the exact difference over ``step * tangent`` instead of their derivative
        (what two views ``step`` apart see at a kink); the smooth layers keep their
        derivative.

        Args:
            x (Tensor): Normalised images (B, 3, S, S).
            tangent (Tensor, optional): An input direction (B, 3, S, S), e.g. the noise;
                None for the features alone. Defaults to None.
            step (float, optional): The ReLU difference step; None for derivatives only.
                Defaults to None.

        Returns:
            tuple: ``(F,)`` (mmseg's tuple of feature maps) without a tangent;
            ``((F,), J)`` with one, ``J = J_F(x) tangent``. Each is
            (B, out_channels, S/patch_size, S/patch_size) float32 (float64 for a float64
            model).
        """
        if tangent is not None and self.tangent_dtype not in (None, self.compute_dtype):
            tangent = tangent.to(getattr(torch, self.tangent_dtype))
        with self.precision(x.device.type):
            x, tangent = as_pair(self.patch_embed(x, tangent))
            x = x + self.pos_embed
            checkpoint = self.training and torch.is_grad_enabled()
            for i in range(self.depth):
                if checkpoint and i < self.grad_checkpointing_blocks:
                    x, tangent = self._checkpoint(i, x, tangent, step)
                else:
                    x, tangent = self._stage(i, x, tangent, step)
            x, tangent = self._head(x, tangent)
        if tangent is None:
            return (self._output(x), )
        return (self._output(x), ), self._output(tangent)
