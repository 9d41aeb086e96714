"""The perturbations real media go through, applied to a test image: JPEG compression,
Gaussian blur, Gaussian noise, downscaling.

Each kind has five severities, the levels of a published robustness protocol:

- ``jpeg``: JPEG quality 90, 80, 70, 60, 50 (IMDL-BenCo's robustness test,
  ``test_robust.py``: qualities 50 to 90, and 100).
- ``blur``: a ``k`` x ``k`` Gaussian kernel of sigma ``k / 6``, ``k`` = 7, 9, 13, 17, 21
  (DeeperForensics-1.0, ``perturbation/distortions.py``, ``GB``).
- ``noise``: additive Gaussian noise of variance 0.001, 0.002, 0.005, 0.01, 0.05 on a
  0-1 scale (DeeperForensics-1.0, ``GNC``), i.e. sigma ``255 * sqrt(variance)`` grey
  levels: 8.1, 11.4, 18.0, 25.5, 57.0; added to each BGR channel (DeeperForensics adds
  it in YCbCr).
- ``downscale``: down by a factor 2, 3, 4, 5, 6 and back up, both with bilinear
  interpolation (DeeperForensics-1.0's resizing perturbation, named ``JPEG`` there).
"""
import hashlib
import math
from typing import Dict, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

_NOISE_VARIANCES = (0.001, 0.002, 0.005, 0.01, 0.05)
#: each kind's level at severity 1 to 5 (quality, kernel size, sigma, factor)
PERTURBATION_LEVELS: Dict[str, Tuple[float, ...]] = {
    'jpeg': (90, 80, 70, 60, 50),
    'blur': (7, 9, 13, 17, 21),
    'noise': tuple(round(255 * math.sqrt(v), 1) for v in _NOISE_VARIANCES),
    'downscale': (2, 3, 4, 5, 6),
}
#: what a kind's level is, for tables and plots
LEVEL_NAMES = {'jpeg': 'quality', 'blur': 'kernel', 'noise': 'sigma', 'downscale': 'factor'}


def jpeg_compress(img: np.ndarray, quality: int) -> np.ndarray:
    """The image encoded as JPEG at ``quality`` (OpenCV's encoder) and decoded.

    Args:
        img (np.ndarray): An 8-bit image (H x W or H x W x C, BGR).
        quality (int): JPEG quality, 1 to 100.

    Returns:
        np.ndarray: The decoded image, same shape.
    """
    ok, data = cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ValueError(f'JPEG encoding at quality {quality} failed')
    flag = cv2.IMREAD_GRAYSCALE if img.ndim == 2 else cv2.IMREAD_COLOR
    return cv2.imdecode(data, flag)


def gaussian_blur(img: np.ndarray, kernel: int) -> np.ndarray:
    """The image blurred by a ``kernel`` x ``kernel`` Gaussian of sigma ``kernel / 6``.

    Args:
        img (np.ndarray): The image.
        kernel (int): An odd kernel size.

    Returns:
        np.ndarray: The blurred image, same shape and type.
    """
    kernel = int(kernel)
    return cv2.GaussianBlur(img, (kernel, kernel), kernel / 6)


def gaussian_noise(img: np.ndarray, sigma: float, rng: np.random.Generator) -> np.ndarray:
    """The image plus Gaussian noise of standard deviation ``sigma`` grey levels per pixel
    and channel, rounded and clipped to 0-255.

    Args:
        img (np.ndarray): An 8-bit image.
        sigma (float): The noise's standard deviation, in grey levels.
        rng (np.random.Generator): Draws the noise.

    Returns:
        np.ndarray: The noisy 8-bit image, same shape.
    """
    noise = rng.standard_normal(img.shape) * sigma
    return np.clip(np.rint(img.astype(np.float64) + noise), 0, 255).astype(np.uint8)


def downscale(img: np.ndarray, factor: int) -> np.ndarray:
    """The image resized to ``1 / factor`` of its size (``size // factor``, at least 1 px)
    and back, both bilinear (``cv2.INTER_LINEAR``).

    Args:
        img (np.ndarray): The image.
        factor (int): How many times smaller the intermediate image is.

    Returns:
        np.ndarray: The image at its own size, detail below the factor lost.
    """
    height, width = img.shape[:2]
    small = (max(1, width // int(factor)), max(1, height // int(factor)))
    reduced = cv2.resize(img, small, interpolation=cv2.INTER_LINEAR)
    return cv2.resize(reduced, (width, height), interpolation=cv2.INTER_LINEAR)


def image_seed(img_path: str) -> int:
    """A seed from an image's path, the same in every run and process.

    Args:
        img_path (str): The image's path as the dataset lists it.

    Returns:
        int: A 64-bit seed.
    """
    return int.from_bytes(hashlib.sha256(str(img_path).encode('utf-8')).digest()[:8], 'big')


def perturb(img: np.ndarray, kind: str, level: float, seed: int = 0) -> np.ndarray:
    """``img`` under one perturbation.

    Args:
        img (np.ndarray): An 8-bit image (BGR, as the loaders give it).
        kind (str): One of :data:`PERTURBATION_LEVELS`.
        level (float): The kind's level (quality, kernel size, sigma or factor).
        seed (int): Seeds the noise (``noise`` only). Defaults to 0.

    Returns:
        np.ndarray: The perturbed 8-bit image, same shape.
    """
    if img.dtype != np.uint8:
        raise TypeError(f'ImagePerturbation: needs an 8-bit image, got {img.dtype} (load it '
                        'without to_float32)')
    if kind == 'jpeg':
        return jpeg_compress(img, int(level))
    if kind == 'blur':
        return gaussian_blur(img, int(level))
    if kind == 'noise':
        return gaussian_noise(img, float(level), np.random.default_rng(seed))
    return downscale(img, int(level))


def level_problem(kind: str, level: float) -> str:
    """What is wrong with a kind and level ('' when nothing).

    Args:
        kind (str): The perturbation's kind.
        level (float): Its level.

    Returns:
        str: One sentence naming the valid values, or ''.
    """
    if kind not in PERTURBATION_LEVELS:
        return f'unknown perturbation {kind!r}; known: {", ".join(PERTURBATION_LEVELS)}'
    if not isinstance(level, (int, float)) or not math.isfinite(level):
        return f'{kind} level {level!r}: must be a finite number'
    valid = {'jpeg': (1 <= level <= 100 and level == int(level), 'a whole number 1-100'),
             'blur': (level >= 1 and level == int(level) and int(level) % 2 == 1,
                      'an odd whole number'),
             'noise': (level > 0, 'a number above 0'),
             'downscale': (level >= 2 and level == int(level), 'a whole number of 2 or more')}
    ok, what = valid[kind]
    return '' if ok else f'{kind} level {level:g}: the {LEVEL_NAMES[kind]} must be {what}'


@TRANSFORMS.register_module()
class ImagePerturbation(BaseTransform):
    """One perturbation of the image (``results['img']`` only; masks and other keys are
    left as they are), the same for an image in every run: the noise is seeded by the
    image's path. Put it right after the image is loaded.

    Args:
        kind (str): ``'jpeg'``, ``'blur'``, ``'noise'`` or ``'downscale'``.
        level (float): JPEG quality, blur kernel size (sigma ``k / 6``), noise sigma in
            grey levels, or downscaling factor (:data:`PERTURBATION_LEVELS`).

    Required keys: ``img``, ``img_path``. Modified keys: ``img``.
    """

    def __init__(self, *, kind: str, level: float) -> None:
        problem = level_problem(kind, level)
        if problem:
            raise ValueError(f'ImagePerturbation: {problem}')
        self.kind = kind
        self.level = level

    def transform(self, results: dict) -> dict:
        """Perturb ``results['img']``.

        Args:
            results (dict): The sample, with ``img`` and ``img_path``.

        Returns:
            dict: The sample with its image perturbed.
        """
        seed = image_seed(results.get('img_path', ''))
        results['img'] = perturb(results['img'], self.kind, self.level, seed)
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(kind={self.kind!r}, level={self.level!r})'
