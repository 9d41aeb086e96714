"""The DADF segmentor: noisy view, one batched encoder pass, RGA, mask and class heads.

One training step (docs/method.md)::

    x_noisy = x + N(0, sigma^2)                       on the normalised input
    F, F_gau = backbone([x ; x_noisy]).split(B)       one batch of 2B images
    F_final  = RGA(F, F_gau)                          eq. 5-6
    loss     = L_seg + 0.1 L_rec + 0.1 L_cls          eq. 8

At inference the noisy view is made too, seeded per image from its path, so a prediction
does not depend on the batch it came in: RGA needs ``S = |F_gau - F|``.

``noise=dict(mode=...)`` chooses how the encoder sees the noisy view: ``'batched'`` (the
default above), ``'separate'`` (two encoder calls, the reference) or ``'jvp'``: ``F`` and
``F_gau - F ~= J_F(x) e`` in one forward-mode traversal. :meth:`DADF.encode` is the one
place that decides it; what is logged about RGA during training is ``RGADiagnosticsHook``'s.
The difference of two views is ~1e-3 of the features, below bfloat16's resolution, so a
low-precision encoder (``backbone.compute_dtype``) needs ``'jvp'``: two bf16 views give an
``S`` that is rounding noise (docs/performance.md). Neck, decode head and losses always run
in float32.
"""
import inspect
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.logging import print_log
from mmseg.models.segmentors import EncoderDecoder
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from torch import Tensor

from ..utils import running_stats_frozen
from ..utils.moved_keys import refuse_old_keys
from ..utils.noise import NoiseSettings, seeded_unit_noise
from ..utils.rga_fidelity import rga_signal_check
from ..utils.sam_checkpoint import load_sam_checkpoint, sub_state_dict
from ..utils.sample_labels import image_labels

#: keys DADF took before its noise settings were grouped, and where they are now
MOVED_KEYS = dict(
    noise_std='use model.noise=dict(std=...)',
    noise_seed='use model.noise=dict(seed=...)',
    noise_pass="use model.noise=dict(mode='batched' | 'separate' | 'jvp')",
    noise_generator="use model.noise=dict(generator='cpu' | 'device')",
    rga_diagnostics_interval="use custom_hooks=[dict(type='RGADiagnosticsHook', interval=...)]",
    rga_check_interval="use custom_hooks=[dict(type='RGADiagnosticsHook', "
                       "signal_check_interval=...)]",
    check_rga_precision="removed: a low-precision encoder with two views is always refused; "
                        "set model.noise=dict(mode='jvp') or backbone.compute_dtype='float32'",
    pretrained='use model.sam_checkpoint=...')


def float32_region(device_type: str) -> torch.autocast:
    """Autocast off (a no-op when none is active): RGA, decode head and losses.

    Args:
        device_type (str): The device type autocast is switched off for (``'cuda'``,
            ``'cpu'``, ...).

    Returns:
        torch.autocast: The context.
    """
    return torch.autocast(device_type, enabled=False)


@MODELS.register_module()
class DADF(EncoderDecoder):
    """Detect Any Deepfakes on mmseg's ``EncoderDecoder``.

    Args:
        backbone (dict): the SAM encoder config (``SAMViT``).
        decode_head (dict): the mask decoder head config (``SAMMaskDecoderHead``).
        neck (dict, optional): the ``RGANeck`` config, or ``None`` to switch RGA off (no
            noisy view then). Defaults to None.
        sam_checkpoint (str, optional): path of an official SAM checkpoint, loaded by
            ``init_weights`` (the runner calls it before training; a trained DADF
            checkpoint holds it all). Defaults to None.
        noise (dict, optional): the noisy view: ``std`` (sigma on the normalised input,
            paper 1e-3), ``seed`` (base seed of the per-image noise), ``mode``
            (``'batched'``: clean and noisy view in one encoder batch; ``'separate'``: two
            encoder calls; ``'jvp'``: ``F`` and the first-order difference ``J_F(x) e`` in
            one traversal, the choice for a bf16 encoder) and ``generator`` (``'cpu'``: the
            same noise on every machine; ``'device'``: drawn on the input's device).
            Defaults to ``dict(std=1e-3, seed=0, mode='batched', generator='cpu')``
            (:class:`~..utils.noise.NoiseSettings`).
        train_cfg (dict, optional): The config for training. Defaults to None.
        test_cfg (dict, optional): The config for testing; must predict whole images
            (``mode='whole'``), and may set ``mask_from_fake_only`` and
            ``score_threshold`` (see :meth:`predict`). Defaults to None.
        data_preprocessor (dict, optional): The pre-process config of
            :class:`BaseDataPreprocessor`. Defaults to None.
        init_cfg (dict, optional): The weight initialized config for
            :class:`BaseModule`. Defaults to None.
        **old_keys: keys DADF no longer takes (``noise_std``, ``noise_pass``,
            ``rga_diagnostics_interval``, ...), refused with their new place
            (``MOVED_KEYS``); ``pretrained=None``, which mmseg's ``init_model`` sets, is
            accepted.
    """

    def __init__(self,
                 *,
                 backbone: dict,
                 decode_head: dict,
                 neck: Optional[dict] = None,
                 sam_checkpoint: Optional[str] = None,
                 noise: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None,
                 **old_keys) -> None:
        if 'pretrained' in old_keys and old_keys['pretrained'] is None:
            del old_keys['pretrained']  # mmseg's init_model sets it to None
        refuse_old_keys('model', old_keys, MOVED_KEYS)
        self.noise = NoiseSettings.from_cfg(noise)
        super().__init__(backbone=backbone, decode_head=decode_head, neck=neck,
                         train_cfg=train_cfg, test_cfg=test_cfg,
                         data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if (test_cfg or {}).get('mode', 'whole') != 'whole':
            raise ValueError("DADF predicts whole images: set test_cfg=dict(mode='whole')")
        self.sam_checkpoint = sam_checkpoint
        self.register_buffer('noise_step', torch.zeros((), dtype=torch.long))
        mode = self.noise.mode
        dtype = getattr(self.backbone, 'compute_dtype', 'float32')
        if self.with_neck and mode != 'jvp' and dtype != 'float32':
            raise ValueError(
                f"backbone.compute_dtype={dtype!r} with noise mode {mode!r}: the noisy view "
                f'differs from the clean one by ~noise std={self.noise.std:g} of the input, '
                f'below {dtype} resolution, so RGA would train on rounding noise. Set '
                "model.noise=dict(mode='jvp') (one traversal computing F and its derivative, "
                "see docs/performance.md) or backbone.compute_dtype='float32'.")
        if mode == 'jvp' and 'tangent' not in inspect.signature(
                self.backbone.forward).parameters:
            raise ValueError("model.noise=dict(mode='jvp') needs a backbone whose forward "
                             f'takes a tangent (SAMViT), got {type(self.backbone).__name__}')

    # weights -----------------------------------------------------------------------------
    def init_weights(self) -> None:
        super().init_weights()
        if self.sam_checkpoint:
            self.load_sam_checkpoint(self.sam_checkpoint)

    def load_sam_checkpoint(self, path: str) -> None:
        """Load an official SAM checkpoint into the encoder and the mask decoder.

        Args:
            path (str): Path of the official SAM checkpoint.
        """
        state = load_sam_checkpoint(path)
        self.backbone.load_sam_weights(sub_state_dict(state, 'image_encoder.'), source=path)
        self.decode_head.load_sam_weights(
            sub_state_dict(state, 'prompt_encoder.'), sub_state_dict(state, 'mask_decoder.'),
            source=path)
        print_log(f'loaded SAM weights from {path}', logger='current')

    # the noisy view ----------------------------------------------------------------------
    def unit_noise(self, inputs: Tensor, batch_img_metas: Optional[Sequence[dict]] = None
                   ) -> Tensor:
        """``N(0, 1)`` noise shaped like ``inputs``, seeded per image from its path (or its
        index in the batch), so it does not depend on the batch an image came in.

        In training the seed also takes the training step, counted in the ``noise_step``
        buffer that checkpoints carry: every step draws new noise, and a resumed run
        draws the noise the uninterrupted run would have. The noisy view is
        ``inputs + noise.std * unit_noise``.

        Args:
            inputs (Tensor): The normalised images (B, C, H, W).
            batch_img_metas (Sequence[dict], optional): The images' metas; ``img_path``
                seeds each image's noise (else its index in the batch). Defaults to None.

        Returns:
            Tensor: The unit noise, shaped, typed and placed like ``inputs``.
        """
        salt = ''
        if self.training:
            salt = f'#{int(self.noise_step)}'
            self.noise_step += 1
        return seeded_unit_noise(inputs, batch_img_metas, seed=self.noise.seed, salt=salt,
                                 on_device=self.noise.generator == 'device')

    def noisy_view(self, inputs: Tensor, batch_img_metas: Optional[Sequence[dict]] = None
                   ) -> Tensor:
        """``inputs + N(0, sigma^2)``, seeded as :meth:`unit_noise` says.

        Args:
            inputs (Tensor): The normalised images (B, C, H, W).
            batch_img_metas (Sequence[dict], optional): The images' metas, as for
                :meth:`unit_noise`. Defaults to None.

        Returns:
            Tensor: The noisy view, shaped like ``inputs``.
        """
        return inputs + self.noise.std * self.unit_noise(inputs, batch_img_metas)

    def encode(self, inputs: Tensor, batch_img_metas: Optional[Sequence[dict]] = None
               ) -> Tuple[Tensor, Optional[Tensor]]:
        """``F`` and ``D = F_gau - F``, the signed difference RGA reads (``S = |D|``); ``D``
        is ``None`` without RGA. The one place that decides how the noisy view is seen;
        training, prediction and the checks all call it.

        - ``'batched'``: ``[x ; x_noisy]`` in one encoder batch, ``D = F_gau - F``;
        - ``'separate'``: two encoder calls (BatchNorm statistics updated by the first);
        - ``'jvp'``: ``D = noise.std * J_F(x) u`` for the same unit noise ``u`` the views
          would use: one traversal, exact to first order in ``noise.std`` (and exact at
          the adapters' ReLU kinks, which pass the difference itself).

        Args:
            inputs (Tensor): The normalised images (B, C, H, W).
            batch_img_metas (Sequence[dict], optional): The images' metas, seeding the
                noise as :meth:`unit_noise` says. Defaults to None.

        Returns:
            tuple[Tensor, Tensor | None]: The encoder features ``F`` and the difference
            ``D = F_gau - F`` (``None`` without RGA).
        """
        if not self.with_neck:
            return self.backbone(inputs)[-1], None
        if self.noise.mode == 'jvp':
            feats, tangent = self.backbone(
                inputs, tangent=self.unit_noise(inputs, batch_img_metas), step=self.noise.std)
            return feats[-1], self.noise.std * tangent
        noisy = self.noisy_view(inputs, batch_img_metas)
        if self.noise.mode == 'separate':
            feat = self.backbone(inputs)[-1]
            with running_stats_frozen(self.backbone):  # one BatchNorm update per step
                feat_noisy = self.backbone(noisy)[-1]
        else:
            feat, feat_noisy = self.backbone(torch.cat([inputs, noisy], 0))[-1].chunk(2, 0)
        return feat, feat_noisy - feat

    def extract_feat(self, inputs: Tensor,
                     batch_img_metas: Optional[Sequence[dict]] = None) -> List[Tensor]:
        """``[F_final]``: RGA-refined features (``F`` itself without RGA).

        Args:
            inputs (Tensor): The normalised images (B, C, H, W).
            batch_img_metas (Sequence[dict], optional): The images' metas, seeding the
                noise as :meth:`unit_noise` says. Defaults to None.

        Returns:
            list[Tensor]: One feature map, ``F_final`` (or ``F`` without RGA).
        """
        feat, diff = self.encode(inputs, batch_img_metas)
        if not self.with_neck:
            return [feat]
        with float32_region(inputs.device.type):
            return [self.neck(feat, diff)]

    # modes -------------------------------------------------------------------------------
    def loss(self, inputs: Tensor, data_samples: List[SegDataSample]) -> Dict[str, Tensor]:
        """The losses of eq. 8: the decode head's ``L_seg`` and ``L_cls`` and (with RGA)
        the neck's ``L_rec``, each weighted by its loss module, with the head's accuracies.

        Args:
            inputs (Tensor): The normalised images (B, C, H, W).
            data_samples (list[SegDataSample]): The samples, with ``gt_sem_seg`` and
                ``gt_label``.

        Returns:
            dict[str, Tensor]: The losses by name, and ``acc_seg`` / ``acc_cls``.
        """
        gt_labels = image_labels(data_samples, inputs.device)
        feat, diff = self.encode(inputs, [s.metainfo for s in data_samples])
        losses: Dict[str, Tensor] = {}
        with float32_region(inputs.device.type):
            refined = feat
            if self.with_neck:
                losses.update(self.neck.loss(feat, diff, gt_labels, noise_std=self.noise.std))
                refined = self.neck(feat, diff)
            losses.update(self.decode_head.loss([refined], data_samples, self.train_cfg,
                                                gt_labels=gt_labels))
        return losses

    def rga_signal_check(self, inputs: Tensor) -> float:
        """:func:`~..rga_fidelity.rga_signal_check` of this model on ``inputs``.

        Args:
            inputs (Tensor): A few normalised images (B, 3, S, S).

        Returns:
            float: The correlation of this model's ``S`` with its float64 twin's.
        """
        return rga_signal_check(self, inputs)

    def _forward(self, inputs: Tensor, data_samples: Optional[List[SegDataSample]] = None
                 ) -> Tuple[Tensor, Optional[Tensor]]:
        """Raw mask logits (B, 1, S/4, S/4) and fake logits (B,)."""
        metas = [s.metainfo for s in data_samples] if data_samples else None
        feats = self.extract_feat(inputs, metas)
        with float32_region(inputs.device.type):
            return self.decode_head(feats)

    def encode_decode(self, inputs: Tensor, batch_img_metas: List[dict]) -> Tensor:
        """Encode images with the backbone (and RGA) and decode them into mask logits of
        the input's size.

        Args:
            inputs (Tensor): The normalised images (B, C, H, W).
            batch_img_metas (list[dict]): The images' metas.

        Returns:
            Tensor: The mask logits (B, 1, H, W), float32.
        """
        feats = self.extract_feat(inputs, batch_img_metas)
        with float32_region(inputs.device.type):
            mask_logits, _ = self.decode_head(feats)
            return self.decode_head.predict_by_feat(mask_logits, batch_img_metas)

    def predict(self, inputs: Tensor, data_samples: Optional[List[SegDataSample]] = None
                ) -> List[SegDataSample]:
        """Per image: ``pred_sem_seg`` (0/1 mask), ``seg_logits`` (fake probability per
        pixel, mmseg's convention for one-channel output) and ``pred_score`` (probability
        that the face is fake).

        ``test_cfg=dict(mask_from_fake_only=True, score_threshold=0.5)`` empties the mask of
        a face judged real, so a decision and its mask never contradict (off by default:
        the paper scores masks and decisions independently)."""
        if data_samples is not None:
            metas = [s.metainfo for s in data_samples]
        else:
            shape = inputs.shape[2:]
            metas = [dict(ori_shape=shape, img_shape=shape, pad_shape=shape,
                          padding_size=[0, 0, 0, 0])] * inputs.shape[0]
        feats = self.extract_feat(inputs, metas)
        with float32_region(inputs.device.type):
            mask_logits, cls_logits = self.decode_head(feats)
        seg_logits = resize(mask_logits.float(), size=inputs.shape[2:], mode='bilinear',
                            align_corners=self.align_corners)
        if cls_logits is None:
            scores = self.mask_score(mask_logits)
        else:
            scores = cls_logits.float().sigmoid()
        if data_samples is None:
            data_samples = [SegDataSample(metainfo=m) for m in metas]
        results = self.postprocess_result(seg_logits, data_samples)
        gate = (self.test_cfg or {}).get('mask_from_fake_only', False)
        threshold = (self.test_cfg or {}).get('score_threshold', 0.5)
        for sample, score in zip(results, scores):
            sample.pred_sem_seg.data = sample.pred_sem_seg.data.long()
            if gate and score <= threshold:
                sample.pred_sem_seg.data.zero_()
            sample.set_field(score.detach(), 'pred_score')
        return results

    @staticmethod
    def mask_score(mask_logits: Tensor, top: float = 0.01) -> Tensor:
        """Image score without a classification branch: mean of the top 1% pixel
        probabilities.

        Args:
            mask_logits (Tensor): Mask logits (B, 1, h, w).
            top (float): The share of the most probable pixels averaged. Defaults to 0.01.

        Returns:
            Tensor: The fake probability per image (B,), float32.
        """
        prob = mask_logits.float().sigmoid().flatten(1)
        k = max(1, int(prob.shape[1] * top))
        return prob.topk(k, dim=1).values.mean(1)
