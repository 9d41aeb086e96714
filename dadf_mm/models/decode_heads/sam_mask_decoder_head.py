"""SAM's mask decoder, prompt-free, plus DADF's real/fake classification branch.

The decoder reads ``F_final`` (B, 256, h, w) and predicts one mask (``multimask_output=False``,
the first mask token) at (4h, 4w). The prompts are those of "no prompt": an empty sparse
prompt, SAM's ``no_mask_embed`` as the dense prompt and the image positional encoding of
SAM's ``pe_layer``, all three loaded from the checkpoint's prompt encoder. The decoder
trains, except the parts single-mask decoding never reads (IoU head, multimask
hypernetworks), which stay frozen.

The classification branch (GAP + FC, paper Sec. 3) reads, by ``cls_in``:
``'gated_embedding'`` the decoder's upscaled mask embedding gated by the sigmoid of the mask
logits (default), ``'mask'`` the mean and max of the mask probability, or ``'feature'``
``F_final``. ``with_cls=False`` removes it (Table 4's rows without it).
"""
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from segment_anything.modeling.prompt_encoder import PositionEmbeddingRandom
from torch import nn

from ..layers import PromptFreeMaskDecoder
from ..utils import at_least_float32
from ..utils.moved_keys import refuse_old_keys
from ..utils.sam_checkpoint import check_state_dict

CLS_INPUTS = ('gated_embedding', 'mask', 'feature')


@MODELS.register_module()
class SAMMaskDecoderHead(BaseDecodeHead):
    """Prompt-free SAM mask decoder with a real/fake classification branch.

    Args:
        in_channels (int): channels of ``F_final`` (SAM's 256). Defaults to 256.
        with_cls (bool): add the classification branch. Defaults to True.
        cls_in (str): what the classification branch reads (see module docstring).
            Defaults to 'gated_embedding'.
        cls_hidden (int): hidden width of the FC-ReLU-FC classifier. Defaults to 256.
        cls_norm (str, optional): ``'layer'`` layer-normalises a pooled embedding or
            feature before the classifier (its scale follows the decoder's activations and
            would otherwise set how fast the branch learns under Adam); ``None`` feeds it
            as it is. The ``'mask'`` input (mean and max probability) is always fed as it
            is. Defaults to 'layer'.
        loss_cls (dict): the config of ``L_cls`` on the fake logits, weighted by lambda_2
            of eq. 8: an mmseg loss called as ``loss_cls(logits (B, 1), labels (B,))``.
            Defaults to a sigmoid ``CrossEntropyLoss`` named ``'loss_cls'``, weight 0.1
            (the binary cross-entropy averaged over the batch).
        loss_decode (dict | list[dict]): mmseg loss config(s) for ``L_seg`` on the
            single-channel logits. Defaults to a sigmoid ``CrossEntropyLoss`` named
            ``'loss_seg'`` (weight 1.0, averaged over non-ignored pixels).
        threshold (float): probability above which a pixel is predicted forged (mmseg's
            binary-head threshold). Defaults to 0.5.
        ignore_index (int): label value ignored by the losses. Defaults to 255.
        align_corners (bool): ``align_corners`` of the logits' resizing. Defaults to False.
        init_cfg (dict, optional): mmengine init config. Defaults to None.
        **old_keys: keys the head no longer takes (``loss_cls_weight``), refused with
            their new place.
    """

    def __init__(self,
                 *,
                 in_channels: int = 256,
                 with_cls: bool = True,
                 cls_in: str = 'gated_embedding',
                 cls_hidden: int = 256,
                 cls_norm: Optional[str] = 'layer',
                 loss_cls: dict = dict(type='CrossEntropyLoss', use_sigmoid=True,
                                       loss_weight=0.1, loss_name='loss_cls'),
                 loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0,
                                  avg_non_ignore=True, loss_name='loss_seg'),
                 threshold: float = 0.5,
                 ignore_index: int = 255,
                 align_corners: bool = False,
                 init_cfg: Optional[dict] = None, **old_keys) -> None:
        refuse_old_keys('model.decode_head', old_keys, dict(
            loss_cls_weight="use model.decode_head.loss_cls=dict(type='CrossEntropyLoss', "
                            "use_sigmoid=True, loss_weight=...)"))
        super().__init__(in_channels, in_channels, num_classes=2, out_channels=1,
                         threshold=threshold, dropout_ratio=0.0, loss_decode=loss_decode,
                         ignore_index=ignore_index, align_corners=align_corners,
                         init_cfg=init_cfg)
        del self.conv_seg  # the mask decoder predicts the mask
        if cls_in not in CLS_INPUTS:
            raise ValueError(f'cls_in must be one of {CLS_INPUTS}, got {cls_in!r}')
        self.mask_decoder = PromptFreeMaskDecoder(transformer_dim=in_channels)
        self.mask_decoder.freeze_unused()
        self.pe_layer = PositionEmbeddingRandom(in_channels // 2)
        self.no_mask_embed = nn.Embedding(1, in_channels)
        self.no_mask_embed.requires_grad_(False)
        self.with_cls = with_cls
        self.cls_in = cls_in
        self.cls_branch = None
        self.loss_cls = None
        if with_cls:
            self.loss_cls = MODELS.build(loss_cls)
            cls_dims = {'gated_embedding': in_channels // 8, 'mask': 2, 'feature': in_channels}
            if cls_norm not in (None, 'layer'):
                raise ValueError(f"cls_norm must be 'layer' or None, got {cls_norm!r}")
            dim = cls_dims[cls_in]
            self.cls_branch = nn.Sequential(
                nn.LayerNorm(dim) if cls_norm == 'layer' and cls_in != 'mask' else nn.Identity(),
                nn.Linear(dim, cls_hidden), nn.ReLU(inplace=True), nn.Linear(cls_hidden, 1))

    # SAM weights -------------------------------------------------------------------------
    def load_sam_weights(self, prompt_encoder: Dict[str, torch.Tensor],
                         mask_decoder: Dict[str, torch.Tensor], *, source: str = '<state dict>'
                         ) -> None:
        """Load ``mask_decoder.*`` and the prompt encoder's PE and ``no_mask_embed``.

        Args:
            prompt_encoder (dict[str, Tensor]): SAM's ``prompt_encoder.*`` entries, prefix
                removed.
            mask_decoder (dict[str, Tensor]): SAM's ``mask_decoder.*`` entries, prefix
                removed.
            source (str): Where they come from, for error messages.
                Defaults to '<state dict>'.

        Raises:
            SAMCheckpointError: A key is missing or of another shape.
        """
        expected = {k: v.shape for k, v in self.mask_decoder.state_dict().items()}
        check_state_dict(expected=expected, found=mask_decoder, resizable=(), path=source,
                         part='mask decoder', arch='sam')
        prompt = {k: prompt_encoder[k] for k in
                  ('pe_layer.positional_encoding_gaussian_matrix', 'no_mask_embed.weight')
                  if k in prompt_encoder}
        own = {'pe_layer.positional_encoding_gaussian_matrix': self.pe_layer.
               positional_encoding_gaussian_matrix.shape,
               'no_mask_embed.weight': self.no_mask_embed.weight.shape}
        check_state_dict(expected=own, found=prompt, resizable=(), path=source,
                         part='prompt encoder', arch='sam')
        self.mask_decoder.load_state_dict(mask_decoder)
        self.load_state_dict(prompt, strict=False)

    # forward -----------------------------------------------------------------------------
    def image_pe(self, h: int, w: int) -> torch.Tensor:
        """SAM's dense positional encoding of an (h, w) grid, (C, h, w), as
        ``PositionEmbeddingRandom.forward`` computes it, in the dtype of its matrix (SAM
        makes the grid in float32, which a float64 copy of the model cannot multiply).

        Args:
            h (int): The grid's height.
            w (int): The grid's width.

        Returns:
            Tensor: The encoding (C, h, w).
        """
        matrix = self.pe_layer.positional_encoding_gaussian_matrix
        y = (torch.arange(h, device=matrix.device, dtype=matrix.dtype) + 0.5) / h
        x = (torch.arange(w, device=matrix.device, dtype=matrix.dtype) + 0.5) / w
        coords = torch.stack(torch.meshgrid(x, y, indexing='xy'), dim=-1)  # (h, w, 2): x, y
        return self.pe_layer._pe_encoding(coords).permute(2, 0, 1)

    def forward(self, inputs) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Mask logits (B, 1, 4h, 4w) and fake logits (B,) (``None`` without the branch)."""
        feat = inputs[-1] if isinstance(inputs, (list, tuple)) else inputs
        b, c, h, w = feat.shape
        image_pe = self.image_pe(h, w).unsqueeze(0).to(feat.dtype)
        sparse = feat.new_zeros((b, 0, c))
        dense = self.no_mask_embed.weight.reshape(1, -1, 1, 1).to(feat.dtype)
        masks, _, upscaled = self.mask_decoder.predict_masks_batched(
            image_embeddings=feat, image_pe=image_pe, sparse_prompt_embeddings=sparse,
            dense_prompt_embeddings=dense)
        mask_logits = masks[:, :1]
        if self.cls_branch is None:
            return mask_logits, None
        prob = mask_logits.sigmoid()
        if self.cls_in == 'gated_embedding':
            pooled = (upscaled * prob).mean((2, 3))
        elif self.cls_in == 'mask':
            pooled = torch.cat([prob.mean((2, 3)), prob.amax((2, 3))], 1)
        else:
            pooled = feat.mean((2, 3))
        return mask_logits, self.cls_branch(at_least_float32(pooled)).squeeze(1)

    # losses ------------------------------------------------------------------------------
    def loss(self, inputs, batch_data_samples: List[SegDataSample], train_cfg=None, *,
             gt_labels: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        mask_logits, cls_logits = self.forward(inputs)
        return self.loss_by_feat((mask_logits, cls_logits), batch_data_samples,
                                 gt_labels=gt_labels)

    def loss_by_feat(self, seg_logits: Tuple[torch.Tensor, Optional[torch.Tensor]],
                     batch_data_samples: Sequence[SegDataSample], *,
                     gt_labels: Optional[torch.Tensor] = None) -> Dict[str, torch.Tensor]:
        """``L_seg`` (pixel losses at label size, fp32) and ``lambda_2 * L_cls``.

        Args:
            seg_logits (tuple[Tensor, Tensor | None]): Mask logits (B, 1, 4h, 4w) and fake
                logits (B,) (None without the branch), as :meth:`forward` returns them.
            batch_data_samples (Sequence[SegDataSample]): The samples, with
                ``gt_sem_seg``.
            gt_labels (Tensor, optional): Image labels (B,), 0 real and 1 fake; needed with
                the classification branch. Defaults to None.

        Returns:
            dict[str, Tensor]: The loss of each ``loss_decode`` (by its ``loss_name``;
            zero for a batch whose pixels are all ignored, see :meth:`pixel_loss`),
            ``acc_seg`` (pixel accuracy, %), and with the branch ``L_cls`` (by its
            ``loss_name``, ``loss_cls`` by default) and ``acc_cls`` (%).
        """
        mask_logits, cls_logits = seg_logits
        seg_label = self._stack_batch_gt(batch_data_samples)
        mask_logits = resize(at_least_float32(mask_logits), size=seg_label.shape[2:],
                             mode='bilinear', align_corners=self.align_corners)
        seg_label = seg_label.squeeze(1)
        losses: Dict[str, torch.Tensor] = {}
        decode_losses = self.loss_decode if isinstance(self.loss_decode, nn.ModuleList) \
            else [self.loss_decode]
        valid = seg_label != self.ignore_index
        any_valid = bool(valid.any())
        for loss_decode in decode_losses:
            value = self.pixel_loss(loss_decode, mask_logits, seg_label, any_valid)
            losses[loss_decode.loss_name] = losses.get(loss_decode.loss_name, 0) + value
        pred = (mask_logits.squeeze(1) > 0).long()
        losses['acc_seg'] = ((pred == seg_label) & valid).sum() * 100.0 / valid.sum().clamp(min=1)
        if cls_logits is not None:
            if gt_labels is None:
                raise ValueError('the classification branch needs gt_labels')
            cls_logits = at_least_float32(cls_logits)
            losses[self.loss_cls.loss_name] = self.loss_cls(cls_logits.unsqueeze(1), gt_labels)
            losses['acc_cls'] = ((cls_logits > 0).long() == gt_labels).float().mean() * 100.0
        return losses

    def pixel_loss(self, loss_decode: nn.Module, mask_logits: torch.Tensor,
                   seg_label: torch.Tensor, any_valid: bool) -> torch.Tensor:
        """One pixel loss of ``L_seg``; zero, with a zero gradient, when every pixel of
        the batch is ignored (a batch of fakes without masks), where mmseg's losses fail
        (the binary cross-entropy takes the ``max()`` of the empty set of valid labels).

        Args:
            loss_decode (nn.Module): An mmseg pixel loss (one of ``loss_decode``).
            mask_logits (Tensor): Mask logits at label size (B, 1, H, W), float32.
            seg_label (Tensor): Labels (B, H, W); ``ignore_index`` where unknown.
            any_valid (bool): Whether any label is not ``ignore_index``.

        Returns:
            Tensor: The loss, a 0-d tensor in the logits' graph (so every parameter that
            made them receives a gradient, zero here, as distributed training expects).
        """
        if any_valid:
            return loss_decode(mask_logits, seg_label, ignore_index=self.ignore_index)
        return mask_logits.sum() * 0.0

    def predict(self, inputs, batch_img_metas: List[dict], test_cfg=None) -> torch.Tensor:
        """Mask logits resized to the (padded) input size, as mmseg's heads return them."""
        mask_logits, _ = self.forward(inputs)
        return self.predict_by_feat(mask_logits, batch_img_metas)

    def predict_by_feat(self, seg_logits: torch.Tensor, batch_img_metas: List[dict]
                        ) -> torch.Tensor:
        """Mask logits resized to the batch's (padded) input size.

        Args:
            seg_logits (Tensor): Mask logits (B, 1, 4h, 4w).
            batch_img_metas (list[dict]): The images' metas (``pad_shape`` or
                ``img_shape`` of the first is used).

        Returns:
            Tensor: The logits (B, 1, H, W), float32.
        """
        size = batch_img_metas[0].get('pad_shape', batch_img_metas[0]['img_shape'])
        return resize(seg_logits.float(), size=size, mode='bilinear',
                      align_corners=self.align_corners)
