"""A forgery dataset that needs no download: self-blended fakes of scikit-image's samples.

Sources are images that ``scikit-image`` ships inside its wheel: the 100 face crops of
``skimage.data.lfw_subset()`` (25 x 25 grey) and a few photographs (``astronaut``,
``coffee``, ``rocket``, ``chelsea``, ``camera``). Every source belongs to exactly one
split, so ``val`` and ``test`` are held out from ``train``:

- train: LFW faces with index % 10 in 0..6 (70), astronaut, coffee, rocket;
- val: LFW faces with index % 10 == 7 (10), chelsea;
- test: LFW faces with index % 10 in {8, 9} (20), camera.

Sample ``i`` is a random square crop (with random flip) of source ``i // 2``, resized to
``img_size``; even ``i`` are real, odd ``i`` are its self-blended fake (method
``'synthetic'``). The images are written once as PNG files (with an annotation list)
under ``cache_dir`` and then read like any other forgery dataset, so the usual
pipelines apply.
"""
import os
import os.path as osp
import shutil
import tempfile
from typing import Dict, List, Optional, Tuple

import cv2
import numpy as np
from mmseg.registry import DATASETS

from .annotation_file import write_annotations
from .forgery_dataset import ForgeryFolderDataset
from .transforms.self_blend import self_blend

GENERATOR_VERSION = 1
DEFAULT_OFFSETS = (8.0, 24.0)
PHOTO_SPLITS = {'train': ('astronaut', 'coffee', 'rocket'), 'val': ('chelsea', ),
                'test': ('camera', )}
LFW_SPLITS = {'train': range(0, 7), 'val': range(7, 8), 'test': range(8, 10)}


def _default_cache() -> str:
    root = os.environ.get('XDG_CACHE_HOME', osp.join(osp.expanduser('~'), '.cache'))
    return osp.join(root, 'dadf_mm', 'synthetic')


def source_images(split: str) -> Dict[str, np.ndarray]:
    """The split's source images, BGR uint8, by name (``'lfw_017'``, ``'astronaut'``)."""
    if split not in LFW_SPLITS:
        raise ValueError(f"split must be 'train', 'val' or 'test', got {split!r}")
    try:
        from skimage import data
    except ImportError as err:
        raise ImportError('SyntheticForgeryDataset needs scikit-image: '
                          'pip install scikit-image') from err
    sources = {}
    faces = data.lfw_subset()[:100]  # the first 100 are faces, the rest are not
    for i, face in enumerate(faces):
        if i % 10 in LFW_SPLITS[split]:
            grey = np.round(face * 255).astype(np.uint8)
            sources[f'lfw_{i:03d}'] = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    for name in PHOTO_SPLITS[split]:
        image = getattr(data, name)()
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image[..., ::-1]
        sources[name] = np.ascontiguousarray(image)
    return sources


def _random_view(image: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """A random square crop (60-100 % of the shorter side), maybe flipped, at ``size``."""
    h, w = image.shape[:2]
    side = int(min(h, w) * rng.uniform(0.6, 1.0)) if min(h, w) > 64 else min(h, w)
    side = max(side, 1)
    y = int(rng.integers(0, h - side + 1))
    x = int(rng.integers(0, w - side + 1))
    view = image[y:y + side, x:x + side]
    if rng.random() < 0.5:
        view = view[:, ::-1]
    interp = cv2.INTER_AREA if side > size else cv2.INTER_CUBIC
    return cv2.resize(np.ascontiguousarray(view), (size, size), interpolation=interp)


def make_samples(split: str, num_samples: int, img_size: int,
                 seed: int, offset_range: Tuple[float, float] = DEFAULT_OFFSETS
                 ) -> List[Tuple[str, np.ndarray, Optional[np.ndarray], int]]:
    """``(source name, image, mask or None, label)`` for every sample, deterministic in seed."""
    sources = source_images(split)
    names = sorted(sources)
    samples = []
    for i in range(num_samples):
        name = names[(i // 2) % len(names)]
        rng = np.random.default_rng([seed, i // 2])
        view = _random_view(sources[name], img_size, rng)
        if i % 2 == 0:
            samples.append((name, view, None, 0))
        else:
            made = self_blend(view, np.random.default_rng([seed, i // 2, 1]),
                              offset_range=offset_range)
            samples.append((name, made.image, made.mask, 1))
    return samples


def write_synthetic_split(folder: str, split: str, num_samples: int, img_size: int,
                          seed: int, offset_range: Tuple[float, float] = DEFAULT_OFFSETS) -> str:
    """Writes images, masks (0/255) and ``annotations.jsonl`` into ``folder`` (atomically)."""
    ann_file = osp.join(folder, 'annotations.jsonl')
    if osp.isfile(ann_file):
        return ann_file
    os.makedirs(osp.dirname(folder), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix='.partial-', dir=osp.dirname(folder))
    records = []
    for i, (name, image, mask, label) in enumerate(
            make_samples(split, num_samples, img_size, seed, offset_range)):
        stem = f'{split}_{i:05d}'
        os.makedirs(osp.join(tmp, 'images'), exist_ok=True)
        cv2.imwrite(osp.join(tmp, 'images', f'{stem}.png'), image)
        mask_path = None
        if mask is not None:
            os.makedirs(osp.join(tmp, 'masks'), exist_ok=True)
            cv2.imwrite(osp.join(tmp, 'masks', f'{stem}.png'), mask * 255)
            mask_path = osp.join(folder, 'masks', f'{stem}.png')
        records.append(dict(img_path=osp.join(folder, 'images', f'{stem}.png'),
                            mask_path=mask_path, label=label,
                            method='synthetic' if label else 'original', video_id=stem,
                            source=name))
    write_annotations(osp.join(tmp, 'annotations.jsonl'), records)
    try:
        os.replace(tmp, folder)
    except OSError:  # another process wrote the same folder first; its files are the same
        shutil.rmtree(tmp, ignore_errors=True)
    return ann_file


@DATASETS.register_module()
class SyntheticForgeryDataset(ForgeryFolderDataset):
    """Half real, half self-blended fake images made from scikit-image's sample images.

    Args:
        split: ``'train'``, ``'val'`` or ``'test'``; their source images are disjoint.
        num_samples: images in the dataset (even: real/fake pairs of one source view).
        img_size: side of the square images.
        seed: fixes every crop and forgery.
        cache_dir: where the images are written (default ``data_root`` if given, else
            ``$XDG_CACHE_HOME/dadf_mm/synthetic``).
        offset_range: size range, in grey levels, of the colour offset of the blended
            copy; larger is easier to detect (the CPU demo uses (30, 60)).
        **kwargs: as :class:`ForgeryFolderDataset` (``pipeline``, ``test_mode``, ...).
    """

    HOW_TO_MAKE = 'increase num_samples'

    def __init__(self,
                 *,
                 split: str = 'train',
                 num_samples: int = 200,
                 img_size: int = 128,
                 seed: int = 0,
                 cache_dir: Optional[str] = None,
                 offset_range: Tuple[float, float] = DEFAULT_OFFSETS,
                 **kwargs) -> None:
        if split not in LFW_SPLITS:
            raise ValueError(f"split must be 'train', 'val' or 'test', got {split!r}")
        if num_samples < 1 or img_size < 16:
            raise ValueError(f'need num_samples >= 1 and img_size >= 16, got {num_samples}, '
                             f'{img_size}')
        self.split = split
        self.num_samples = num_samples
        self.img_size = img_size
        self.seed = seed
        self.offset_range = tuple(float(v) for v in offset_range)
        root = cache_dir or kwargs.get('data_root') or _default_cache()
        strength = '' if self.offset_range == DEFAULT_OFFSETS else \
            f'_off{self.offset_range[0]:g}-{self.offset_range[1]:g}'
        self.folder = osp.join(
            osp.abspath(root),
            f'{split}_n{num_samples}_s{img_size}_seed{seed}{strength}_v{GENERATOR_VERSION}')
        super().__init__(ann_file=osp.join(self.folder, 'annotations.jsonl'), **kwargs)

    def load_data_list(self) -> List[dict]:
        write_synthetic_split(self.folder, self.split, self.num_samples, self.img_size, self.seed,
                              self.offset_range)
        return super().load_data_list()
