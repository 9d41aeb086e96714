"""The official FaceForensics++ splits, shipped with the package.

``splits/ffpp_<split>.json`` is the list of ``[target, source]`` id pairs of the FF++
release. A pair names two real videos (``target``, ``source``) and, for every
manipulation method, two fakes: ``<target>_<source>`` and ``<source>_<target>``.
"""
import json
import os.path as osp
from typing import List, Tuple

SPLITS = ('train', 'val', 'test')
SPLIT_DIR = osp.join(osp.dirname(__file__), 'splits')


def ffpp_split_pairs(split: str) -> List[Tuple[str, str]]:
    """The ``(target, source)`` pairs of an official split.

    Args:
        split (str): ``'train'``, ``'val'`` or ``'test'``.

    Returns:
        list[tuple[str, str]]: The pairs of video ids, in the file's order.
    """
    if split not in SPLITS:
        raise ValueError(f'FF++ split must be one of {SPLITS}, got {split!r}')
    with open(osp.join(SPLIT_DIR, f'ffpp_{split}.json')) as f:
        return [(str(t), str(s)) for t, s in json.load(f)]


def ffpp_split_videos(split: str) -> Tuple[List[str], List[str]]:
    """Real and fake video ids of a split.

    E.g. ``(['071', '054', ...], ['071_054', '054_071', ...])``.

    Args:
        split (str): ``'train'``, ``'val'`` or ``'test'``.

    Returns:
        tuple[list[str], list[str]]: The sorted real and fake video ids.
    """
    pairs = ffpp_split_pairs(split)
    real = sorted({i for pair in pairs for i in pair})
    fake = sorted({f'{a}_{b}' for t, s in pairs for a, b in ((t, s), (s, t))})
    return real, fake
