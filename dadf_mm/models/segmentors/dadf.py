"""The DADF segmentor: noisy view, one batched encoder pass, RGA, mask and class heads.

One training step (METHOD.md)::

    x_noisy = x + N(0, sigma^2)                       on the normalised input
    F, F_gau = backbone([x ; x_noisy]).split(B)       one batch of 2B images
    F_final  = RGA(F, F_gau)                          eq. 5-6
    loss     = L_seg + 0.1 L_rec + 0.1 L_cls          eq. 8

At inference the noisy view is made too, seeded per image from its path, so a prediction
does not depend on the batch it came in: RGA needs ``S = |F_gau - F|``.
"""
import zlib
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.logging import print_log
from mmseg.models.segmentors import EncoderDecoder
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from torch import Tensor

from ..sam_checkpoint import load_sam_checkpoint, sub_state_dict
from ..sample_labels import image_labels


@MODELS.register_module()
class DADF(EncoderDecoder):
    """Detect Any Deepfakes on mmseg's ``EncoderDecoder``.

    Args:
        backbone: the SAM encoder config (``SAMViT``).
        decode_head: the mask decoder head config (``SAMMaskDecoderHead``).
        neck: the ``RGANeck`` config, or ``None`` to switch RGA off (no noisy view then).
        sam_checkpoint: path of an official SAM checkpoint, loaded by ``init_weights``
            (the runner calls it before training; a trained DADF checkpoint holds it all).
        noise_std: sigma of the Gaussian noise on the normalised input (paper: 1e-3).
        noise_seed: base seed of the per-image noise at inference.
    """

    def __init__(self,
                 *,
                 backbone: dict,
                 decode_head: dict,
                 neck: Optional[dict] = None,
                 sam_checkpoint: Optional[str] = None,
                 noise_std: float = 1e-3,
                 noise_seed: int = 0,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 pretrained: Optional[str] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if pretrained is not None:
            raise ValueError('DADF loads SAM from sam_checkpoint=..., not pretrained=...')
        super().__init__(backbone=backbone, decode_head=decode_head, neck=neck,
                         train_cfg=train_cfg, test_cfg=test_cfg,
                         data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if (test_cfg or {}).get('mode', 'whole') != 'whole':
            raise ValueError("DADF predicts whole images: set test_cfg=dict(mode='whole')")
        self.sam_checkpoint = sam_checkpoint
        self.noise_std = noise_std
        self.noise_seed = noise_seed

    # weights -----------------------------------------------------------------------------
    def init_weights(self) -> None:
        super().init_weights()
        if self.sam_checkpoint:
            self.load_sam_checkpoint(self.sam_checkpoint)

    def load_sam_checkpoint(self, path: str) -> None:
        """Load an official SAM checkpoint into the encoder and the mask decoder."""
        state = load_sam_checkpoint(path)
        self.backbone.load_sam_weights(sub_state_dict(state, 'image_encoder.'), source=path)
        self.decode_head.load_sam_weights(
            sub_state_dict(state, 'prompt_encoder.'), sub_state_dict(state, 'mask_decoder.'),
            source=path)
        print_log(f'loaded SAM weights from {path}', logger='current')

    # the noisy view ----------------------------------------------------------------------
    def noisy_view(self, inputs: Tensor, batch_img_metas: Optional[Sequence[dict]] = None
                   ) -> Tensor:
        """``inputs + N(0, sigma^2)``: global RNG in training, seeded per image otherwise."""
        if self.training or batch_img_metas is None:
            return inputs + self.noise_std * torch.randn_like(inputs)
        noise = []
        for i, meta in enumerate(batch_img_metas):
            key = str(meta.get('img_path', i)).encode()
            gen = torch.Generator().manual_seed(self.noise_seed ^ zlib.crc32(key))
            noise.append(torch.randn(inputs.shape[1:], generator=gen, dtype=torch.float32))
        return inputs + self.noise_std * torch.stack(noise).to(inputs)

    def encode_views(self, inputs: Tensor, batch_img_metas: Optional[Sequence[dict]] = None
                     ) -> Tuple[Tensor, Optional[Tensor]]:
        """``F`` and ``F_gau`` from one encoder pass over both views (``F_gau`` is ``None``
        without RGA)."""
        if not self.with_neck:
            return self.backbone(inputs)[-1], None
        both = torch.cat([inputs, self.noisy_view(inputs, batch_img_metas)], 0)
        feat, feat_noisy = self.backbone(both)[-1].chunk(2, 0)
        return feat, feat_noisy

    def extract_feat(self, inputs: Tensor,
                     batch_img_metas: Optional[Sequence[dict]] = None) -> List[Tensor]:
        """``[F_final]``: RGA-refined features (``F`` itself without RGA)."""
        feat, feat_noisy = self.encode_views(inputs, batch_img_metas)
        if self.with_neck:
            feat = self.neck(feat, feat_noisy)
        return [feat]

    # modes -------------------------------------------------------------------------------
    def loss(self, inputs: Tensor, data_samples: List[SegDataSample]) -> Dict[str, Tensor]:
        gt_labels = image_labels(data_samples, inputs.device)
        feat, feat_noisy = self.encode_views(inputs)
        losses: Dict[str, Tensor] = {}
        if self.with_neck:
            losses.update(self.neck.loss(feat, feat_noisy, gt_labels))
            feat = self.neck(feat, feat_noisy)
        losses.update(self.decode_head.loss([feat], data_samples, self.train_cfg,
                                            gt_labels=gt_labels))
        return losses

    def _forward(self, inputs: Tensor, data_samples: Optional[List[SegDataSample]] = None
                 ) -> Tuple[Tensor, Optional[Tensor]]:
        """Raw mask logits (B, 1, S/4, S/4) and fake logits (B,)."""
        metas = [s.metainfo for s in data_samples] if data_samples else None
        return self.decode_head(self.extract_feat(inputs, metas))

    def encode_decode(self, inputs: Tensor, batch_img_metas: List[dict]) -> Tensor:
        mask_logits, _ = self.decode_head(self.extract_feat(inputs, batch_img_metas))
        return self.decode_head.predict_by_feat(mask_logits, batch_img_metas)

    def predict(self, inputs: Tensor, data_samples: Optional[List[SegDataSample]] = None
                ) -> List[SegDataSample]:
        """Per image: ``pred_sem_seg`` (0/1 mask), ``seg_logits`` (fake probability per
        pixel, mmseg's convention for one-channel output) and ``pred_score`` (probability
        that the face is fake)."""
        if data_samples is not None:
            metas = [s.metainfo for s in data_samples]
        else:
            shape = inputs.shape[2:]
            metas = [dict(ori_shape=shape, img_shape=shape, pad_shape=shape,
                          padding_size=[0, 0, 0, 0])] * inputs.shape[0]
        mask_logits, cls_logits = self.decode_head(self.extract_feat(inputs, metas))
        seg_logits = resize(mask_logits.float(), size=inputs.shape[2:], mode='bilinear',
                            align_corners=self.align_corners)
        if cls_logits is None:
            scores = self.mask_score(mask_logits)
        else:
            scores = cls_logits.float().sigmoid()
        if data_samples is None:
            data_samples = [SegDataSample(metainfo=m) for m in metas]
        results = self.postprocess_result(seg_logits, data_samples)
        for sample, score in zip(results, scores):
            sample.pred_sem_seg.data = sample.pred_sem_seg.data.long()
            sample.set_field(score.detach(), 'pred_score')
        return results

    @staticmethod
    def mask_score(mask_logits: Tensor, top: float = 0.01) -> Tensor:
        """Image score without a classification branch: mean of the top 1% pixel
        probabilities."""
        prob = mask_logits.float().sigmoid().flatten(1)
        k = max(1, int(prob.shape[1] * top))
        return prob.topk(k, dim=1).values.mean(1)
