"""Self-blended forgeries (after Shiohara and Yamasaki, CVPR 2022).

A real face is turned into a fake one by blending a perturbed copy of itself back in
through a soft mask::

    source'  = geometry(colour(source))            small colour and shape changes
    soft     = blur(region) * ratio                a face part, a side, blobs, the face
    fake     = soft * source' + (1 - soft) * source   (pixels with soft == 0 untouched)
    mask     = soft > mask_threshold               the binary forgery mask

``trace`` leaves a low-level trace in the blended copy on top of the colour change, the
kind of forgery that is weak in colour and strong in the image's noise (the harder case
of the RGA ablation): ``'resample'`` (scaled down and up again: its sensor noise and
fine detail are smoothed away), ``'recompress'`` (JPEG at a low quality: 8 x 8 blocks,
noise removed) or ``'noise'`` (extra Gaussian noise).

The region is one of :data:`~.forgery_regions.REGION_KINDS`
(:func:`~.forgery_regions.forgery_region`); its edge is feathered in proportion to its size.

Everything random comes from one ``numpy.random.Generator``, so a seed fixes the result.
"""
from dataclasses import dataclass
from typing import Optional, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from .forgery_regions import FaceLayout, check_region_kinds, forgery_region

BLEND_RATIOS = (0.5, 0.75, 1.0, 1.0)
TRACES = ('resample', 'recompress', 'noise')
#: the blended copy's default colour change: offset size (grey levels) and gain ranges
DEFAULT_OFFSETS = (8.0, 24.0)
DEFAULT_GAINS = (0.9, 1.1)


@dataclass
class SelfBlendResult:
    """``image`` the forgery, ``mask`` 0/1 uint8, ``soft_mask`` float32 in [0, 1],
    ``blended`` the perturbed copy that was blended in.

    Attributes:
        image (np.ndarray): The forgery, uint8, shaped like the source.
        mask (np.ndarray): The binary forgery mask (H, W), uint8 0/1.
        soft_mask (np.ndarray): The blending weight (H, W), float32 in [0, 1].
        blended (np.ndarray): The perturbed copy, uint8, shaped like the source.
    """

    image: np.ndarray
    mask: np.ndarray
    soft_mask: np.ndarray
    blended: np.ndarray


def _odd(value: float) -> int:
    return max(int(value) // 2 * 2 + 1, 3)


def jpeg_round_trip(image: np.ndarray, quality: int) -> np.ndarray:
    """``image`` (uint8) encoded as JPEG at ``quality`` (1-100) and decoded again.

    Args:
        image (np.ndarray): The image, uint8.
        quality (int): The JPEG quality, 1-100.

    Returns:
        np.ndarray: The decoded image, uint8, shaped like ``image``.
    """
    ok, data = cv2.imencode('.jpg', image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError(f'OpenCV could not encode a {image.shape} image as JPEG')
    return cv2.imdecode(data, cv2.IMREAD_UNCHANGED).reshape(image.shape)


def add_trace(image: np.ndarray, rng: np.random.Generator, trace: str) -> np.ndarray:
    """``image`` (uint8) with one of :data:`TRACES`: ``'resample'`` scales it down by
    0.25-0.5 (area) and back up (bilinear); ``'recompress'`` is a JPEG round trip at quality
    10-30; ``'noise'`` adds Gaussian noise of standard deviation 4-8 grey levels.

    Args:
        image (np.ndarray): The image, uint8.
        rng (np.random.Generator): The source of randomness.
        trace (str): ``'resample'``, ``'recompress'`` or ``'noise'``.

    Returns:
        np.ndarray: The traced image, uint8, shaped like ``image``.
    """
    h, w = image.shape[:2]
    if trace == 'resample':
        scale = rng.uniform(0.25, 0.5)
        small = cv2.resize(image, (max(int(w * scale), 1), max(int(h * scale), 1)),
                           interpolation=cv2.INTER_AREA)
        return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR).reshape(image.shape)
    if trace == 'recompress':
        return jpeg_round_trip(image, int(rng.integers(10, 31)))
    if trace == 'noise':
        noise = rng.normal(0.0, rng.uniform(4.0, 8.0), image.shape)
        return np.clip(np.round(image + noise), 0, 255).astype(np.uint8)
    raise ValueError(f'trace must be one of {TRACES} or None, got {trace!r}')


def perturb(image: np.ndarray, rng: np.random.Generator, *,
            offset_range: Tuple[float, float] = DEFAULT_OFFSETS,
            gain_range: Tuple[float, float] = DEFAULT_GAINS,
            trace: Optional[str] = None) -> np.ndarray:
    """A colour- and geometry-perturbed copy: per-channel gain (from ``gain_range``) and
    offset (its size drawn from ``offset_range`` grey levels, at least 8 by default so the
    copy always differs; one for all channels of a grey image), optional blur, slight zoom
    and shift, then ``trace`` (:func:`add_trace`) if given.

    Args:
        image (np.ndarray): The image, uint8 (H, W) or (H, W, C).
        rng (np.random.Generator): The source of randomness.
        offset_range (tuple[float, float]): Range of the offset's size, in grey levels.
            Defaults to (8.0, 24.0).
        gain_range (tuple[float, float]): Range of the per-channel gain.
            Defaults to (0.9, 1.1).
        trace (str, optional): A trace of :data:`TRACES`; None for none. Defaults to None.

    Returns:
        np.ndarray: The perturbed copy, uint8, shaped like ``image``.
    """
    img = image.astype(np.float32)
    channels = img.shape[2] if img.ndim == 3 else 1
    gain = rng.uniform(*gain_range, channels)
    offset = rng.choice([-1.0, 1.0], channels) * rng.uniform(*offset_range, channels)
    if channels > 1 and (image == image[..., :1]).all():  # grey stays grey: no colour cast
        gain, offset = np.full(channels, gain[0]), np.full(channels, offset[0])
    out = img * gain + offset
    if rng.random() < 0.5:
        out = cv2.GaussianBlur(out, (3, 3), float(rng.uniform(0.3, 1.0)))
    h, w = image.shape[:2]
    scale = rng.uniform(0.96, 1.04)
    shift = rng.uniform(-0.02, 0.02, 2) * (w, h)
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), 0.0, scale)
    matrix[:, 2] += shift
    out = cv2.warpAffine(out, matrix, (w, h), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REFLECT)
    out = np.clip(np.round(out), 0, 255).astype(np.uint8).reshape(image.shape)
    return out if trace is None else add_trace(out, rng, trace)


def self_blend(image: np.ndarray,
               rng: np.random.Generator,
               *,
               kind: str = 'face',
               layout: Optional[FaceLayout] = None,
               mask_threshold: float = 0.25,
               offset_range: Tuple[float, float] = DEFAULT_OFFSETS,
               gain_range: Tuple[float, float] = DEFAULT_GAINS,
               trace: Optional[str] = None,
               donor: Optional[np.ndarray] = None) -> SelfBlendResult:
    """Makes a forgery of ``image`` (uint8, H x W or H x W x C) by self-blending;
    ``offset_range`` and ``gain_range`` set how strong the colour change of the blended
    copy is, ``trace`` adds a low-level trace to it (:func:`add_trace`).

    Args:
        image (np.ndarray): The real image, uint8 (H, W) or (H, W, C).
        rng (np.random.Generator): The source of randomness.
        kind (str): Where the forgery goes, one of
            :data:`~.forgery_regions.REGION_KINDS`. Defaults to 'face'.
        layout (FaceLayout, optional): Where the face's parts are; None when unknown
            (:func:`~.forgery_regions.forgery_region`). Defaults to None.
        mask_threshold (float): Soft-mask value above which a pixel is forged in the
            binary mask. Defaults to 0.25.
        offset_range (tuple[float, float]): See :func:`perturb`. Defaults to (8.0, 24.0).
        gain_range (tuple[float, float]): See :func:`perturb`. Defaults to (0.9, 1.1).
        trace (str, optional): See :func:`add_trace`; None for none. Defaults to None.
        donor (np.ndarray, optional): Another face of the same layout, size and dtype,
            whose perturbed copy is blended in instead of the image's own (a partial
            swap); None to blend the image with itself. Defaults to None.

    Returns:
        SelfBlendResult: The forgery, its masks and the blended copy.
    """
    if image.dtype != np.uint8:
        raise TypeError(f'self_blend expects a uint8 image, got {image.dtype}')
    h, w = image.shape[:2]
    region = forgery_region((h, w), rng, kind, layout)
    # feathered over 5-15 % of the region's diameter: a visible seam, as a poorly blended
    # swap leaves, whatever the region's size
    size = min(2.0 * np.sqrt(float(region.sum()) / np.pi), float(min(h, w)))
    blur = _odd(rng.uniform(0.05, 0.15) * size)
    soft = cv2.GaussianBlur(region, (blur, blur), 0)  # finite kernel: exact zeros far away
    soft = soft / max(float(soft.max()), 1e-6) * float(rng.choice(BLEND_RATIOS))
    soft = np.clip(soft, 0.0, 1.0).astype(np.float32)
    if donor is not None and (donor.shape != image.shape or donor.dtype != image.dtype):
        raise ValueError(f'the donor ({donor.shape}, {donor.dtype}) must match the image '
                         f'({image.shape}, {image.dtype})')
    blended = perturb(image if donor is None else donor, rng, offset_range=offset_range,
                      gain_range=gain_range, trace=trace)
    weight = (soft[..., None] if image.ndim == 3 else soft).astype(np.float64)
    mixed = np.round(weight * blended + (1 - weight) * image.astype(np.float64))
    fake = np.where(weight > 0, np.clip(mixed, 0, 255).astype(np.uint8), image)
    mask = (soft > mask_threshold).astype(np.uint8)
    return SelfBlendResult(image=fake, mask=mask, soft_mask=soft, blended=blended)


@TRANSFORMS.register_module()
class SelfBlendForgery(BaseTransform):
    """With probability ``prob`` turns a real sample into a self-blended fake one.

    Put it right after ``LoadForgeryAnnotations`` (before resizing and padding). It sets
    ``img``, ``gt_seg_map`` (0/1), ``gt_label`` = 1, ``method`` and ``has_mask`` = True;
    fake samples pass unchanged.

    Args:
        prob (float): chance that a real sample becomes fake. Defaults to 0.5.
        mask_threshold (float): soft-mask value above which a pixel is forged in
            ``gt_seg_map``. Defaults to 0.25.
        method (str): the ``method`` name given to the made fakes. Defaults to 'synthetic'.
        seed (int, optional): ``None`` draws from numpy's global generator (seeded by
            mmengine's ``randomness`` config, different in each dataloader worker); an int
            gives this transform its own generator. Defaults to None.
        offset_range (tuple[float, float]): size range, in grey levels, of the blended
            copy's colour offset. Defaults to (8.0, 24.0).
        regions (Sequence[str]): the region kinds (:data:`~.forgery_regions.REGION_KINDS`)
            one of which is drawn per forgery. The images' face layout is unknown here, so
            face parts become blobs anywhere on the image. Defaults to ('face', ).
    """

    def __init__(self,
                 *,
                 prob: float = 0.5,
                 mask_threshold: float = 0.25,
                 method: str = 'synthetic',
                 seed: Optional[int] = None,
                 offset_range: Tuple[float, float] = DEFAULT_OFFSETS,
                 regions: Sequence[str] = ('face', )) -> None:
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f'SelfBlendForgery prob must be in [0, 1], got {prob}')
        self.prob = prob
        self.mask_threshold = mask_threshold
        self.method = method
        self.seed = seed
        self.offset_range = tuple(offset_range)
        self.regions = check_region_kinds(regions, 'SelfBlendForgery regions')
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def _generator(self) -> np.random.Generator:
        if self._rng is not None:
            return self._rng
        return np.random.default_rng(np.random.randint(0, 2**31 - 1))

    def transform(self, results: dict) -> dict:
        if int(results.get('gt_label', 0)) != 0:
            return results
        rng = self._generator()
        if rng.random() >= self.prob:
            return results
        kind = str(rng.choice(self.regions))
        made = self_blend(results['img'], rng, kind=kind, mask_threshold=self.mask_threshold,
                          offset_range=self.offset_range)
        results['img'] = made.image
        results['gt_seg_map'] = made.mask
        results.setdefault('seg_fields', [])
        if 'gt_seg_map' not in results['seg_fields']:
            results['seg_fields'].append('gt_seg_map')
        results.update(gt_label=1, method=self.method, has_mask=True)
        return results

    def __repr__(self) -> str:
        return (f'{type(self).__name__}(prob={self.prob}, mask_threshold={self.mask_threshold}, '
                f'seed={self.seed}, regions={self.regions})')
