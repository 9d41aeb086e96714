"""SAM's mask decoder driven without prompts, batched over images.

``segment_anything``'s ``MaskDecoder.predict_masks`` repeats one image's embedding for a
batch of prompts. Here every image has its own (empty) prompt set, so images batch
directly, and the upscaled mask embedding is returned too (the classification branch
reads it).
"""
from typing import Tuple

import torch
from segment_anything.modeling import MaskDecoder, TwoWayTransformer


class PromptFreeMaskDecoder(MaskDecoder):
    """SAM's ``MaskDecoder`` (same parameters and keys) for prompt-free batched images.

    Args:
        transformer_dim (int): Channels of the image embedding and tokens. Defaults to 256.
        num_multimask_outputs (int): Masks of the multimask output. Defaults to 3.
        transformer_depth (int): Layers of the two-way transformer. Defaults to 2.
        transformer_mlp_dim (int): Hidden channels of its MLPs. Defaults to 2048.
        transformer_heads (int): Its attention heads. Defaults to 8.
        iou_head_depth (int): Layers of the IoU prediction head. Defaults to 3.
        iou_head_hidden_dim (int): Hidden channels of the IoU head. Defaults to 256.
    """

    def __init__(self, *, transformer_dim: int = 256, num_multimask_outputs: int = 3,
                 transformer_depth: int = 2, transformer_mlp_dim: int = 2048,
                 transformer_heads: int = 8, iou_head_depth: int = 3,
                 iou_head_hidden_dim: int = 256) -> None:
        super().__init__(
            transformer_dim=transformer_dim,
            transformer=TwoWayTransformer(depth=transformer_depth, embedding_dim=transformer_dim,
                                          mlp_dim=transformer_mlp_dim, num_heads=transformer_heads),
            num_multimask_outputs=num_multimask_outputs,
            iou_head_depth=iou_head_depth,
            iou_head_hidden_dim=iou_head_hidden_dim)

    def predict_masks_batched(
        self,
        image_embeddings: torch.Tensor,
        image_pe: torch.Tensor,
        sparse_prompt_embeddings: torch.Tensor,
        dense_prompt_embeddings: torch.Tensor,
        multimask_output: bool = False,
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Masks (B, M, 4h, 4w), IoU predictions (B, M), upscaled embedding (B, C/8, 4h, 4w).

        ``image_embeddings`` (B, C, h, w), ``image_pe`` (1, C, h, w), sparse prompts
        (B, N, C) (N may be 0), dense prompts broadcastable to the embeddings. As in SAM,
        ``multimask_output=False`` gives the first mask token's mask (M = 1), ``True`` the
        other three; only the selected masks are computed.

        Args:
            image_embeddings (Tensor): The image embeddings (B, C, h, w).
            image_pe (Tensor): The positional encoding (1, C, h, w).
            sparse_prompt_embeddings (Tensor): Sparse prompts (B, N, C); N may be 0.
            dense_prompt_embeddings (Tensor): Dense prompts, broadcastable to
                ``image_embeddings``.
            multimask_output (bool): Whether to return the three multimask masks instead
                of the single one. Defaults to False.

        Returns:
            tuple[Tensor, Tensor, Tensor]: The mask logits (B, M, 4h, 4w), the IoU
            predictions (B, M) and the upscaled mask embedding (B, C/8, 4h, 4w).
        """
        b = image_embeddings.shape[0]
        output_tokens = torch.cat([self.iou_token.weight, self.mask_tokens.weight], dim=0)
        tokens = torch.cat(
            [output_tokens.unsqueeze(0).expand(b, -1, -1), sparse_prompt_embeddings], dim=1)
        src = image_embeddings + dense_prompt_embeddings
        pos_src = image_pe.expand(b, -1, -1, -1)
        _, c, h, w = src.shape
        hs, src = self.transformer(src, pos_src, tokens)
        iou_token_out = hs[:, 0, :]
        mask_tokens_out = hs[:, 1:(1 + self.num_mask_tokens), :]
        upscaled = self.output_upscaling(src.transpose(1, 2).reshape(b, c, h, w))
        selected = range(1, self.num_mask_tokens) if multimask_output else range(1)
        hyper_in = torch.stack(
            [self.output_hypernetworks_mlps[i](mask_tokens_out[:, i, :]) for i in selected], dim=1)
        _, cu, hu, wu = upscaled.shape
        masks = (hyper_in @ upscaled.view(b, cu, hu * wu)).view(b, -1, hu, wu)
        iou_pred = self.iou_prediction_head(iou_token_out)[:, list(selected)]
        return masks, iou_pred, upscaled

    def freeze_unused(self) -> None:
        """Freeze what single-mask prompt-free decoding never reads: the IoU head and the
        hypernetworks of the three multimask tokens (trainable but unused parameters would
        break DistributedDataParallel and only decay under AdamW)."""
        self.iou_prediction_head.requires_grad_(False)
        for mlp in self.output_hypernetworks_mlps[1:]:
            mlp.requires_grad_(False)
