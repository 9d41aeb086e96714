"""The DADF segmentor: noisy view, one batched encoder pass, RGA, mask and class heads.

One training step (docs/method.md)::

    x_noisy = x + N(0, sigma^2)                       on the normalised input
    F, F_gau = backbone([x ; x_noisy]).split(B)       one batch of 2B images
    F_final  = RGA(F, F_gau)                          eq. 5-6
    loss     = L_seg + 0.1 L_rec + 0.1 L_cls          eq. 8

At inference the noisy view is made too, seeded per image from its path, so a prediction
does not depend on the batch it came in: RGA needs ``S = |F_gau - F|``.

``noise_pass`` chooses how the encoder sees the noisy view: ``'batched'`` (the default
above), ``'separate'`` (two encoder calls, the reference) or ``'jvp'``: ``F`` and
``F_gau - F ~= J_F(x) e`` in one forward-mode traversal. :meth:`DADF.encode` is the one
place that decides it; what is logged about RGA during training is :class:`RGAMonitor`'s.
The difference of two views is ~1e-3 of the features, below bfloat16's resolution, so a
low-precision encoder (``backbone.compute_dtype``) needs ``'jvp'``: two bf16 views give an
``S`` that is rounding noise (docs/performance.md). Neck, decode head and losses always run
in float32.
"""
import inspect
import zlib
from contextlib import contextmanager
from typing import Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.logging import print_log
from mmseg.models.segmentors import EncoderDecoder
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample
from torch import Tensor

from ..utils import running_stats_frozen
from ..utils.rga_fidelity import rga_signal_check
from ..utils.sam_checkpoint import load_sam_checkpoint, sub_state_dict
from ..utils.sample_labels import image_labels
from .rga_monitor import RGAMonitor

NOISE_PASSES = ('batched', 'separate', 'jvp')


@contextmanager
def float32_region(device_type: str):
    """Autocast off (a no-op when none is active): RGA, decode head and losses.

    Args:
        device_type (str): The device type autocast is switched off for (``'cuda'``,
            ``'cpu'``, ...); ``'meta'`` does nothing.
    """
    if device_type == 'meta':
        yield
        return
    with torch.autocast(device_type, enabled=False):
        yield


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
        noise_std (float): sigma of the Gaussian noise on the normalised input (paper:
            1e-3). Defaults to 1e-3.
        noise_seed (int): base seed of the per-image noise at inference. Defaults to 0.
        noise_pass (str): ``'batched'`` (clean and noisy view in one encoder batch),
            ``'separate'`` (two encoder calls) or ``'jvp'`` (``F`` and the first-order
            difference ``J_F(x) e`` in one traversal; the choice for a bf16 encoder).
            Defaults to ``'batched'``.
        check_rga_precision (bool): refuse a low-precision encoder with two views, whose
            ``S`` would be rounding noise; ``False`` only to measure that failure.
            Defaults to True.
        noise_generator (str): where the per-image seeded noise of inference is drawn:
            ``'cpu'`` (default; the same noise on every machine) or ``'device'`` (the
            input's device: no host-side sampling and copy per image, different values).
            Defaults to ``'cpu'``.
        rga_check_interval (int): every N training steps, log ``rga_s_corr``: the
            correlation of this model's ``S`` with the ``S`` of its float64 twin (two
            views, SAM's explicit attention; a copy of the model's weights for the check)
            on (up to two images of) the batch, and warn below 0.99. ``0`` (default) never
            checks. Defaults to 0.
        rga_diagnostics_interval (int): every N training steps, log how much RGA can steer
            (spread and entropy of ``alpha``, ``S`` over ``|F|``, the share of ``L_rec`` in
            the adapters' gradient; two extra backward passes). ``0`` (default) never; the
            shipped configs use 50. Both intervals are kept by :class:`RGAMonitor`.
            Defaults to 0.
        train_cfg (dict, optional): The config for training. Defaults to None.
        test_cfg (dict, optional): The config for testing; must predict whole images
            (``mode='whole'``), and may set ``mask_from_fake_only`` and
            ``score_threshold`` (see :meth:`predict`). Defaults to None.
        data_preprocessor (dict, optional): The pre-process config of
            :class:`BaseDataPreprocessor`. Defaults to None.
        pretrained (str, optional): Not supported: must be None (SAM is loaded from
            ``sam_checkpoint``). Defaults to None.
        init_cfg (dict, optional): The weight initialized config for
            :class:`BaseModule`. Defaults to None.
    """

    def __init__(self,
                 *,
                 backbone: dict,
                 decode_head: dict,
                 neck: Optional[dict] = None,
                 sam_checkpoint: Optional[str] = None,
                 noise_std: float = 1e-3,
                 noise_seed: int = 0,
                 noise_pass: str = 'batched',
                 check_rga_precision: bool = True,
                 noise_generator: str = 'cpu',
                 rga_check_interval: int = 0,
                 rga_diagnostics_interval: int = 0,
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
        if noise_pass not in NOISE_PASSES:
            raise ValueError(f'noise_pass must be one of {NOISE_PASSES}, got {noise_pass!r}')
        self.noise_pass = noise_pass
        if noise_generator not in ('cpu', 'device'):
            raise ValueError(f"noise_generator must be 'cpu' or 'device', got {noise_generator!r}")
        self.noise_generator = noise_generator
        self.register_buffer('noise_step', torch.zeros((), dtype=torch.long))
        dtype = getattr(self.backbone, 'compute_dtype', 'float32')
        if (check_rga_precision and self.with_neck and noise_pass != 'jvp'
                and dtype != 'float32'):
            raise ValueError(
                f"backbone.compute_dtype={dtype!r} with noise_pass={noise_pass!r}: the noisy "
                f'view differs from the clean one by ~noise_std={noise_std:g} of the input, '
                f'below {dtype} resolution, so RGA would train on rounding noise. Set '
                "model.noise_pass='jvp' (one traversal computing F and its derivative, "
                "see docs/performance.md) or backbone.compute_dtype='float32'.")
        self.monitor = RGAMonitor(diagnostics_interval=rga_diagnostics_interval,
                                  signal_check_interval=rga_check_interval)
        if noise_pass == 'jvp' and 'tangent' not in inspect.signature(
                self.backbone.forward).parameters:
            raise ValueError("noise_pass='jvp' needs a backbone whose forward takes a "
                             f'tangent (SAMViT), got {type(self.backbone).__name__}')

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
        ``inputs + noise_std * unit_noise``.

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
        metas = batch_img_metas or [{}] * inputs.shape[0]
        device = inputs.device if self.noise_generator == 'device' else torch.device('cpu')
        noise = []
        for i, meta in enumerate(metas):
            key = f"{meta.get('img_path', i)}{salt}".encode()
            gen = torch.Generator(device=device).manual_seed(self.noise_seed ^ zlib.crc32(key))
            noise.append(torch.randn(inputs.shape[1:], generator=gen, dtype=torch.float32,
                                     device=device))
        return torch.stack(noise).to(inputs)

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
        return inputs + self.noise_std * self.unit_noise(inputs, batch_img_metas)

    def encode(self, inputs: Tensor, batch_img_metas: Optional[Sequence[dict]] = None
               ) -> Tuple[Tensor, Optional[Tensor]]:
        """``F`` and ``D = F_gau - F``, the signed difference RGA reads (``S = |D|``); ``D``
        is ``None`` without RGA. The one place that decides how the noisy view is seen;
        training, prediction and the checks all call it.

        - ``'batched'``: ``[x ; x_noisy]`` in one encoder batch, ``D = F_gau - F``;
        - ``'separate'``: two encoder calls (BatchNorm statistics updated by the first);
        - ``'jvp'``: ``D = noise_std * J_F(x) u`` for the same unit noise ``u`` the views
          would use: one traversal, exact to first order in ``noise_std`` (and exact at
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
        if self.noise_pass == 'jvp':
            feats, tangent = self.backbone(
                inputs, tangent=self.unit_noise(inputs, batch_img_metas), step=self.noise_std)
            return feats[-1], self.noise_std * tangent
        noisy = self.noisy_view(inputs, batch_img_metas)
        if self.noise_pass == 'separate':
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
            return [self.neck(feat, diff=diff)]

    # modes -------------------------------------------------------------------------------
    def loss(self, inputs: Tensor, data_samples: List[SegDataSample]) -> Dict[str, Tensor]:
        """``L_seg``, ``L_cls`` and (with RGA) ``L_rec``, plus what the monitor logs."""
        gt_labels = image_labels(data_samples, inputs.device)
        feat, diff = self.encode(inputs, [s.metainfo for s in data_samples])
        losses: Dict[str, Tensor] = {}
        with float32_region(inputs.device.type):
            refined = feat
            if self.with_neck:
                losses.update(self.neck.loss(feat, None, gt_labels, diff=diff,
                                             noise_std=self.noise_std))
                refined = self.neck(feat, diff=diff)
            losses.update(self.decode_head.loss([refined], data_samples, self.train_cfg,
                                                gt_labels=gt_labels))
            if self.with_neck:
                losses.update(self.monitor.step(self, inputs, feat, diff, losses))
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
