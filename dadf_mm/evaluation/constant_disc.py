"""The constant disc: one mask, fitted on the training masks, that knows nothing of an image.

A localisation figure means little alone: on faces whose forgeries sit near the centre, a
disc of the training masks' mean area at their mean centre scores well without looking at
the image. :class:`ConstantDisc` is that disc, in fractions of the image (a disc in a
square image, the same ellipse in fractions at any size); ``ForgeryMetric`` scores it
beside the model's masks (see docs/evaluation.md).
"""
import logging
import math
import os.path as osp
from dataclasses import asdict, dataclass
from typing import Any, Iterable, List, Mapping, Tuple

import numpy as np
from mmcv.transforms import LoadImageFromFile
from mmengine.logging import print_log

from ..datasets.errors import ForgeryDataError
from ..datasets.transforms import LoadForgeryAnnotations, LoadForgeryImage

#: a log line every this many masks read
PROGRESS_EVERY = 500


class NoTrainingMasksError(ForgeryDataError):
    """A training set with no fake sample whose mask marks a forged pixel."""


@dataclass(frozen=True)
class ConstantDisc:
    """A disc in normalised image coordinates (x across the width, y down the height).

    Attributes:
        center_x (float): Centre, as a fraction of the image width.
        center_y (float): Centre, as a fraction of the image height.
        area (float): Area, as a fraction of the image area (``pi r^2``).
        num_masks (int): How many training masks it was fitted on.
    """

    center_x: float
    center_y: float
    area: float
    num_masks: int

    def __post_init__(self) -> None:
        for name in ('center_x', 'center_y', 'area'):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f'ConstantDisc {name} must be a finite number, got {value!r}')
        if not 0.0 <= self.area <= 1.0:
            raise ValueError(f'ConstantDisc area must be a fraction in [0, 1], got {self.area}')
        if not isinstance(self.num_masks, int) or self.num_masks < 1:
            raise ValueError(f'ConstantDisc num_masks must be a positive int, got '
                             f'{self.num_masks!r}')

    @property
    def radius(self) -> float:
        """float: The radius in normalised coordinates, ``sqrt(area / pi)``."""
        return math.sqrt(self.area / math.pi)

    def draw(self, height: int, width: int) -> np.ndarray:
        """The disc as a mask of an image of the given size.

        Pixel (row y, column x) is inside where ``((x + 0.5) / width - center_x)^2 +
        ((y + 0.5) / height - center_y)^2 <= radius^2``.

        Args:
            height (int): Image height in pixels.
            width (int): Image width in pixels.

        Returns:
            np.ndarray: (height, width) bool, True inside the disc.
        """
        x = (np.arange(width, dtype=np.float64) + 0.5) / width - self.center_x
        y = (np.arange(height, dtype=np.float64) + 0.5) / height - self.center_y
        return x[None, :]**2 + y[:, None]**2 <= self.radius**2

    def to_dict(self) -> dict:
        """The disc as plain numbers (for JSON and a checkpoint's ``meta``).

        Returns:
            dict: ``center_x``, ``center_y``, ``area``, ``num_masks``.
        """
        return asdict(self)

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> 'ConstantDisc':
        """The disc :meth:`to_dict` wrote.

        Args:
            values (Mapping[str, Any]): ``center_x``, ``center_y``, ``area``, ``num_masks``.

        Returns:
            ConstantDisc: The disc.
        """
        if not isinstance(values, Mapping):
            raise ValueError(f'a constant disc must be a dict, got {type(values).__name__}')
        missing = [k for k in ('center_x', 'center_y', 'area', 'num_masks') if k not in values]
        if missing:
            raise ValueError(f'a constant disc needs {", ".join(missing)}; got keys '
                             f'{sorted(values)}')
        return cls(center_x=float(values['center_x']), center_y=float(values['center_y']),
                   area=float(values['area']), num_masks=int(values['num_masks']))


def mask_moments(mask: np.ndarray) -> Tuple[float, float, float]:
    """The forged fraction and centroid of one mask, in fractions of the image.

    Args:
        mask (np.ndarray): (H, W), nonzero where forged; at least one forged pixel.

    Returns:
        tuple[float, float, float]: ``(area, center_x, center_y)``: the forged fraction of
        the image, and the mean of ``(x + 0.5) / W`` and ``(y + 0.5) / H`` over the forged
        pixels.
    """
    height, width = mask.shape[:2]
    rows, cols = np.nonzero(mask)
    if rows.size == 0:
        raise ValueError('mask_moments needs a mask with a forged pixel')
    return (rows.size / (height * width), float(np.mean(cols + 0.5) / width),
            float(np.mean(rows + 0.5) / height))


def fit_constant_disc(dataset: Any, *, max_masks: int = 2000, seed: int = 0) -> ConstantDisc:
    """The constant disc of a training set: the mean area and mean centroid of its masks.

    Reads the masks of the fake samples that have a mask file (``gt_label`` 1,
    ``seg_map_path`` set, ``has_mask`` not False) the way training reads them (the
    dataset's own ``LoadForgeryImage`` / ``LoadForgeryAnnotations``, before any
    augmentation); masks without a forged pixel are left out.

    Args:
        dataset (Any): A built dataset of this project (``__len__``, ``get_data_info``).
        max_masks (int): Read at most this many masks: a seeded random subset of the
            fakes where there are more. Defaults to 2000.
        seed (int): Seed of that subset. Defaults to 0.

    Returns:
        ConstantDisc: The fitted disc.

    Raises:
        NoTrainingMasksError: No fake sample has a mask with a forged pixel.
    """
    candidates = [i for i in range(len(dataset)) if _is_masked_fake(dataset.get_data_info(i))]
    if len(candidates) > max_masks:
        rng = np.random.default_rng(seed)
        candidates = sorted(rng.choice(candidates, size=max_masks, replace=False).tolist())
    name = dataset_name(dataset)
    print_log(f'constant disc: reading {len(candidates)} masks of fake training samples '
              f'of {name}', logger='current')
    moments = []
    for done, mask in enumerate(_masks(dataset, candidates), start=1):
        if mask.any():
            moments.append(mask_moments(mask))
        if done % PROGRESS_EVERY == 0 and done < len(candidates):
            print_log(f'constant disc: {done} of {len(candidates)} masks read',
                      logger='current')
    if not moments:
        raise NoTrainingMasksError(
            f'{name} has no fake sample with a forged pixel in its mask '
            f'({len(candidates)} fake samples with a mask file): the constant disc cannot '
            'be fitted; give fakes a mask_path, or evaluate against the empty mask only')
    area, center_x, center_y = np.mean(np.array(moments), axis=0).tolist()
    disc = ConstantDisc(center_x=center_x, center_y=center_y, area=area,
                        num_masks=len(moments))
    print_log(f'constant disc: fitted on {len(moments)} masks of {name}: centre '
              f'({center_x:.3f}, {center_y:.3f}) of the width and height, area '
              f'{100 * area:.1f} % of the image', logger='current')
    if len(moments) < len(candidates):
        print_log(f'constant disc: {len(candidates) - len(moments)} fake masks mark no '
                  'forged pixel and were left out', logger='current', level=logging.WARNING)
    return disc


def dataset_name(dataset: Any) -> str:
    """How the messages name a dataset: its type and annotation file.

    Args:
        dataset (Any): A dataset.

    Returns:
        str: e.g. ``'SyntheticForgeryDataset (annotations/train.jsonl)'``.
    """
    ann_file = getattr(dataset, 'ann_file', None)
    kind = type(dataset).__name__
    return f'{kind} ({osp.normpath(ann_file)})' if ann_file else kind


def _is_masked_fake(info: Mapping[str, Any]) -> bool:
    return (info.get('gt_label') == 1 and info.get('seg_map_path') is not None
            and info.get('has_mask', True) is not False)


def _loaders(dataset: Any) -> Tuple[LoadImageFromFile, LoadForgeryAnnotations]:
    """The dataset's image and mask loading transforms (the defaults where it has none)."""
    pipeline = getattr(dataset, 'pipeline', None)
    transforms: List[Any] = list(getattr(pipeline, 'transforms', None) or [])
    image = next((t for t in transforms if isinstance(t, LoadImageFromFile)), None)
    mask = next((t for t in transforms if isinstance(t, LoadForgeryAnnotations)), None)
    return image or LoadForgeryImage(), mask or LoadForgeryAnnotations()


def _masks(dataset: Any, indices: Iterable[int]) -> Iterable[np.ndarray]:
    """The 0/1 masks of the given samples, each as training loads it."""
    load_image, load_mask = _loaders(dataset)
    for index in indices:
        results = load_mask(load_image(dict(dataset.get_data_info(index))))
        yield results['gt_seg_map']
