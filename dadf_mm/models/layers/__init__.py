"""Building blocks with no registry entry: attention, ViT block, adapters, prompt layer."""
from .attention import ATTENTION_IMPLS, RelPosAttention, decomposed_rel_pos_bias, get_rel_pos
from .lora import LoRALinear
from .multiscale_adapter import ADAPTER_VARIANTS, MultiscaleAdapter
from .prompt_free_mask_decoder import PromptFreeMaskDecoder
from .prompt_layer import PromptLayer
from .vit_block import PatchEmbed, ViTBlock
from .windows import window_partition, window_unpartition

__all__ = [
    'ATTENTION_IMPLS', 'RelPosAttention', 'decomposed_rel_pos_bias', 'get_rel_pos',
    'ADAPTER_VARIANTS', 'LoRALinear', 'MultiscaleAdapter', 'PromptFreeMaskDecoder',
    'PromptLayer', 'PatchEmbed', 'ViTBlock', 'window_partition', 'window_unpartition'
]
