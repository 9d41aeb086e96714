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
``'synthetic'``). Each fake's forged region is drawn from ``regions``: the whole face, a
mouth, eyes, a nose, one side of the face (placed by the LFW crops' face layout), blobs
anywhere, or several of these, so the place of the forgery varies from image to image
and a mask must be read from the image. The mask is exact: the pixels whose blending
weight exceeds ``mask_threshold`` (0.25). The images are written once as PNG files (with
an annotation list) under ``cache_dir`` and then read like any other forgery dataset, so
the usual pipelines apply.

The defaults make forgeries that differ in colour (the demo). The options of the harder,
noise-sensitive case (the RGA ablation): ``noise_std`` gives every view (real and fake
alike) a sensor-like Gaussian noise before anything else, ``traces`` gives each fake's
blended copy one low-level trace drawn from the list (resampled, re-compressed, extra
noise: :func:`~dadf_mm.datasets.transforms.self_blend.add_trace`), small ``gain_range``
and ``offset_range`` leave little colour difference, and ``jpeg_quality`` compresses every
final image once more, as a video frame is.
"""
import os
import os.path as osp
import shutil
import tempfile
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmseg.registry import DATASETS

from .annotation_file import write_annotations
from .forgery_dataset import ForgeryFolderDataset
from .transforms.forgery_regions import (
    LFW_LAYOUT,
    REGION_KINDS,
    FaceLayout,
    check_region_kinds,
)
from .transforms.self_blend import (
    DEFAULT_GAINS,
    DEFAULT_OFFSETS,
    TRACES,
    jpeg_round_trip,
    self_blend,
)

GENERATOR_VERSION = 4
PHOTO_SPLITS = {'train': ('astronaut', 'coffee', 'rocket'), 'val': ('chelsea', ),
                'test': ('camera', )}
LFW_SPLITS = {'train': range(0, 7), 'val': range(7, 8), 'test': range(8, 10)}


def _default_cache() -> str:
    root = os.environ.get('XDG_CACHE_HOME', osp.join(osp.expanduser('~'), '.cache'))
    return osp.join(root, 'dadf_mm', 'synthetic')


def source_images(split: str) -> Dict[str, np.ndarray]:
    """The split's source images, BGR uint8, by name (``'lfw_017'``, ``'astronaut'``).

    Args:
        split (str): ``'train'``, ``'val'`` or ``'test'``.

    Returns:
        dict[str, np.ndarray]: Name -> (H, W, 3) image.
    """
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


def _random_view(image: np.ndarray, size: int, rng: np.random.Generator
                 ) -> Tuple[np.ndarray, bool]:
    """A random square crop (60-100 % of the shorter side), maybe flipped, at ``size``,
    and whether it was flipped."""
    h, w = image.shape[:2]
    side = int(min(h, w) * rng.uniform(0.6, 1.0)) if min(h, w) > 64 else min(h, w)
    side = max(side, 1)
    y = int(rng.integers(0, h - side + 1))
    x = int(rng.integers(0, w - side + 1))
    view = image[y:y + side, x:x + side]
    flipped = bool(rng.random() < 0.5)
    if flipped:
        view = view[:, ::-1]
    interp = cv2.INTER_AREA if side > size else cv2.INTER_CUBIC
    return cv2.resize(np.ascontiguousarray(view), (size, size), interpolation=interp), flipped


def face_layout(name: str, flipped: bool) -> Optional[FaceLayout]:
    """Where the face's parts are in a view of source ``name``: the LFW layout for the
    aligned LFW crops (mirrored for a flipped view), None for the photographs.

    Args:
        name (str): The source's name, as :func:`source_images` gives it.
        flipped (bool): Whether the view was flipped horizontally.

    Returns:
        FaceLayout | None: The layout, or None where it is unknown.
    """
    if not name.startswith('lfw_'):
        return None
    return LFW_LAYOUT.flipped() if flipped else LFW_LAYOUT


def _donor_view(sources: Dict[str, np.ndarray], name: str, size: int, flipped: bool,
                rng: np.random.Generator, noise_std: float) -> np.ndarray:
    """Another aligned face of the split, as a view of ``name`` is framed (whole, flipped
    alike), with its own sensor noise: what a partial swap pastes in."""
    others = [n for n in sorted(sources) if n.startswith('lfw_') and n != name]
    face = sources[str(rng.choice(others))]
    face = face[:, ::-1] if flipped else face
    view = cv2.resize(np.ascontiguousarray(face), (size, size), interpolation=cv2.INTER_CUBIC)
    return _with_sensor_noise(view, noise_std, rng) if noise_std > 0 else view


def _with_sensor_noise(view: np.ndarray, std: float, rng: np.random.Generator) -> np.ndarray:
    """``view`` plus Gaussian noise; a grey view (equal channels) gets one noise for all
    channels, so it stays grey."""
    grey = view.ndim == 3 and bool((view == view[..., :1]).all())
    noise = rng.normal(0.0, std, view.shape[:2] + (1, ) if grey else view.shape)
    return np.clip(np.round(view + noise), 0, 255).astype(np.uint8)


def make_samples(split: str, num_samples: int, img_size: int,
                 seed: int, offset_range: Tuple[float, float] = DEFAULT_OFFSETS, *,
                 gain_range: Tuple[float, float] = DEFAULT_GAINS,
                 traces: Sequence[str] = (), noise_std: float = 0.0,
                 jpeg_quality: Optional[int] = None,
                 regions: Sequence[str] = REGION_KINDS, swap_prob: float = 0.0
                 ) -> List[Tuple[str, np.ndarray, Optional[np.ndarray], int]]:
    """``(source name, image, mask or None, label)`` for every sample, deterministic in seed
    (the options are those of :class:`SyntheticForgeryDataset`).

    Args:
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        num_samples (int): The number of samples.
        img_size (int): Their side.
        seed (int): Fixes every crop and forgery.
        offset_range (tuple[float, float]): Colour offset range of the blended copy.
            Defaults to (8.0, 24.0).
        gain_range (tuple[float, float]): Gain range of the blended copy.
            Defaults to (0.9, 1.1).
        traces (Sequence[str]): Low-level traces to draw from; empty for none.
            Defaults to ().
        noise_std (float): Std of every view's sensor noise; 0 for none. Defaults to 0.0.
        jpeg_quality (int, optional): JPEG quality of every final image; None for none.
            Defaults to None.
        regions (Sequence[str]): Region kinds, one drawn per fake. Defaults to all of
            :data:`~.transforms.forgery_regions.REGION_KINDS`.
        swap_prob (float): Share of the fakes of aligned faces whose region comes from
            another face of the split (a partial swap). Defaults to 0.0.

    Returns:
        list[tuple[str, np.ndarray, np.ndarray | None, int]]: Per sample: the source's
        name, the BGR uint8 image, the 0/1 uint8 mask (None for a real image) and the
        label (0 real, 1 fake).
    """
    sources = source_images(split)
    names = sorted(sources)
    samples = []
    for i in range(num_samples):
        name = names[(i // 2) % len(names)]
        rng = np.random.default_rng([seed, i // 2])
        view, flipped = _random_view(sources[name], img_size, rng)
        if noise_std > 0:  # the same noise in a real view and in its fake
            view = _with_sensor_noise(view, noise_std, np.random.default_rng([seed, i // 2, 2]))
        if i % 2 == 0:
            image, mask, label = view, None, 0
        else:
            blend_rng = np.random.default_rng([seed, i // 2, 1])
            trace = str(blend_rng.choice(list(traces))) if traces else None
            kind = str(blend_rng.choice(list(regions)))
            layout = face_layout(name, flipped)
            donor = None
            if swap_prob > 0 and layout is not None and blend_rng.random() < swap_prob:
                donor = _donor_view(sources, name, img_size, flipped, blend_rng, noise_std)
            made = self_blend(view, blend_rng, kind=kind, layout=layout, donor=donor,
                              offset_range=offset_range,
                              gain_range=gain_range, trace=trace)
            image, mask, label = made.image, made.mask, 1
        if jpeg_quality is not None:
            image = jpeg_round_trip(image, jpeg_quality)
        samples.append((name, image, mask, label))
    return samples


def write_synthetic_split(folder: str, split: str, num_samples: int, img_size: int,
                          seed: int, offset_range: Tuple[float, float] = DEFAULT_OFFSETS,
                          **options) -> str:
    """Writes images, masks (0/255) and ``annotations.jsonl`` into ``folder`` (atomically);
    ``options`` are :func:`make_samples`'s keyword options.

    Args:
        folder (str): The split's folder; left as it is when it already holds a list.
        split (str): ``'train'``, ``'val'`` or ``'test'``.
        num_samples (int): The number of samples.
        img_size (int): Their side.
        seed (int): Fixes every crop and forgery.
        offset_range (tuple[float, float]): Colour offset range of the blended copy.
            Defaults to (8.0, 24.0).
        **options: :func:`make_samples`'s keyword options.

    Returns:
        str: The path of the folder's ``annotations.jsonl``.
    """
    ann_file = osp.join(folder, 'annotations.jsonl')
    if osp.isfile(ann_file):
        return ann_file
    os.makedirs(osp.dirname(folder), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix='.partial-', dir=osp.dirname(folder))
    records = []
    for i, (name, image, mask, label) in enumerate(
            make_samples(split, num_samples, img_size, seed, offset_range, **options)):
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
        split (str): ``'train'``, ``'val'`` or ``'test'``; their source images are
            disjoint. Defaults to 'train'.
        num_samples (int): images in the dataset (even: real/fake pairs of one source
            view). Defaults to 200.
        img_size (int): side of the square images, at least 16. Defaults to 128.
        seed (int): fixes every crop and forgery. Defaults to 0.
        cache_dir (str, optional): where the images are written (None: ``data_root`` if
            given, else ``$XDG_CACHE_HOME/dadf_mm/synthetic``). Defaults to None.
        offset_range (tuple[float, float]): size range, in grey levels, of the colour
            offset of the blended copy; larger is easier to detect (the CPU demo uses
            (30, 60)). Defaults to (8.0, 24.0).
        gain_range (tuple[float, float]): range of the blended copy's per-channel gain.
            Defaults to (0.9, 1.1).
        traces (Sequence[str]): low-level traces (``'resample'``, ``'recompress'``,
            ``'noise'``), one of which, drawn per fake, is left in the blended copy;
            ``()`` for none. Defaults to ().
        noise_std (float): standard deviation (grey levels) of the Gaussian noise every
            view gets before blending; 0 for none. Defaults to 0.0.
        jpeg_quality (int, optional): JPEG quality every final image is compressed at;
            None for none. Defaults to None.
        regions (Sequence[str]): where the forgeries go, one kind drawn per fake from
            ``'face'``, ``'mouth'``, ``'eyes'``, ``'nose'``, ``'half'`` (one side of the
            face), ``'blob'`` (anywhere) and ``'multi'`` (two or three regions); on the
            photographs, which have no face layout, face parts become blobs
            (:mod:`~dadf_mm.datasets.transforms.forgery_regions`). Defaults to all of them.
        swap_prob (float): share of the fakes of aligned faces (the LFW crops) whose region
            is pasted from another face of the split (a partial swap) rather than from the
            face itself. Defaults to 0.0.
        **kwargs: as :class:`ForgeryFolderDataset` (``pipeline``, ``test_mode``, ...).
    """

    HOW_TO_MAKE = 'increase num_samples'
    #: generated, not real media: a model trained on it is flagged as such
    synthetic = True

    def __init__(self,
                 *,
                 split: str = 'train',
                 num_samples: int = 200,
                 img_size: int = 128,
                 seed: int = 0,
                 cache_dir: Optional[str] = None,
                 offset_range: Tuple[float, float] = DEFAULT_OFFSETS,
                 gain_range: Tuple[float, float] = DEFAULT_GAINS,
                 traces: Sequence[str] = (),
                 noise_std: float = 0.0,
                 jpeg_quality: Optional[int] = None,
                 regions: Sequence[str] = REGION_KINDS,
                 swap_prob: float = 0.0,
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
        unknown = [t for t in traces if t not in TRACES]
        if unknown:
            raise ValueError(f'SyntheticForgeryDataset traces {unknown} are unknown; choose '
                             f'from {TRACES}')
        if jpeg_quality is not None and not 1 <= int(jpeg_quality) <= 100:
            raise ValueError(f'jpeg_quality must be in 1..100 or None, got {jpeg_quality}')
        self.options = dict(gain_range=tuple(float(v) for v in gain_range),
                            traces=tuple(traces), noise_std=float(noise_std),
                            jpeg_quality=None if jpeg_quality is None else int(jpeg_quality),
                            regions=check_region_kinds(regions, 'SyntheticForgeryDataset regions'),
                            swap_prob=float(swap_prob))
        if not 0.0 <= self.options['swap_prob'] <= 1.0:
            raise ValueError('SyntheticForgeryDataset swap_prob must be in [0, 1], got '
                             f'{swap_prob}')
        root = cache_dir or kwargs.get('data_root') or _default_cache()
        self.folder = osp.join(
            osp.abspath(root), f'{split}_n{num_samples}_s{img_size}_seed{seed}'
            f'{self._options_tag()}_v{GENERATOR_VERSION}')
        super().__init__(ann_file=osp.join(self.folder, 'annotations.jsonl'), **kwargs)

    def _options_tag(self) -> str:
        """The folder-name part that tells non-default generation options apart."""
        tag = ''
        if self.offset_range != DEFAULT_OFFSETS:
            tag += f'_off{self.offset_range[0]:g}-{self.offset_range[1]:g}'
        gain = self.options['gain_range']
        if gain != DEFAULT_GAINS:
            tag += f'_gain{gain[0]:g}-{gain[1]:g}'
        if self.options['traces']:
            tag += '_' + '-'.join(self.options['traces'])
        if self.options['noise_std']:
            tag += f'_noise{self.options["noise_std"]:g}'
        if self.options['jpeg_quality'] is not None:
            tag += f'_q{self.options["jpeg_quality"]}'
        if self.options['swap_prob']:
            tag += f'_swap{self.options["swap_prob"]:g}'
        if self.options['regions'] != REGION_KINDS:
            tag += '_' + '-'.join(self.options['regions'])
        return tag

    def load_data_list(self) -> List[dict]:
        """Write the split's files unless they exist, then read them.

        Returns:
            list[dict]: The data infos, as :meth:`ForgeryFolderDataset.load_data_list`
            returns them.
        """
        write_synthetic_split(self.folder, self.split, self.num_samples, self.img_size, self.seed,
                              self.offset_range, **self.options)
        return super().load_data_list()
