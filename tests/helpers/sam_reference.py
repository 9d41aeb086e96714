"""Random-weight ``segment_anything`` models, the independent reference of the model tests."""
from functools import partial
from typing import Sequence

import torch
from segment_anything.modeling import (
    ImageEncoderViT,
    MaskDecoder,
    PromptEncoder,
    Sam,
    TwoWayTransformer,
)

# A SAM-architecture encoder small enough for CPU tests: windowed blocks with padding
# (grid 8, window 3), global blocks, relative positions, SAM's neck.
TINY_ARCH = dict(embed_dim=64, depth=4, num_heads=4, global_attn_indexes=(1, 3))
TINY_SIZE = 128
TINY_WINDOW = 3


def build_reference_sam(*, embed_dim: int, depth: int, num_heads: int,
                        global_attn_indexes: Sequence[int], img_size: int = 1024,
                        window_size: int = 14, seed: int = 0) -> Sam:
    """A ``segment_anything`` SAM of the given encoder arch with random, non-trivial weights.

    SAM zero-initialises position embeddings and relative position tables; every parameter
    is perturbed here so that a test comparing against this model exercises all of them.
    """
    torch.manual_seed(seed)
    grid = img_size // 16
    sam = Sam(
        image_encoder=ImageEncoderViT(
            depth=depth, embed_dim=embed_dim, img_size=img_size, mlp_ratio=4,
            norm_layer=partial(torch.nn.LayerNorm, eps=1e-6), num_heads=num_heads,
            patch_size=16, qkv_bias=True, use_rel_pos=True,
            global_attn_indexes=tuple(global_attn_indexes), window_size=window_size,
            out_chans=256),
        prompt_encoder=PromptEncoder(embed_dim=256, image_embedding_size=(grid, grid),
                                     input_image_size=(img_size, img_size), mask_in_chans=16),
        mask_decoder=MaskDecoder(
            num_multimask_outputs=3,
            transformer=TwoWayTransformer(depth=2, embedding_dim=256, mlp_dim=2048,
                                          num_heads=8),
            transformer_dim=256, iou_head_depth=3, iou_head_hidden_dim=256),
        pixel_mean=[123.675, 116.28, 103.53],
        pixel_std=[58.395, 57.12, 57.375],
    )
    with torch.no_grad():
        for p in sam.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    return sam.eval()


def save_state_dict(sam: Sam, path: str) -> str:
    torch.save(sam.state_dict(), path)
    return path
