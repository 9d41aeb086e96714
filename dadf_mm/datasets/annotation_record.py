"""Checking one annotation record and a whole list of them (see :mod:`.annotation_file`).

Nothing is guessed: a label is exactly 0 or 1 (a float such as 0.9 is refused, not
truncated to a "real" 0), paths are strings, an image is listed once per method and
the frames of one video share one label. Every error names the record's place.
"""
import os.path as osp
from typing import Dict, List, Optional, Tuple

from .errors import AnnotationError

REQUIRED = ('img_path', 'label')
#: the strings a label may be (case and surrounding spaces ignored), besides 0/1 and bools
LABEL_WORDS = {'0': 0, '1': 1, 'real': 0, 'fake': 1, 'false': 0, 'true': 1}
VIDEO_ID_FROM = ('image', 'folder')
_LABEL_HELP = ("write 0 (real) or 1 (fake); also accepted: true/false and the strings "
               "'0', '1', 'real', 'fake', 'true', 'false' in any case")


def parse_label(value: object) -> Optional[int]:
    """0 or 1 for an accepted label value, else None.

    Args:
        value (object): a record's ``label`` as read (JSON value or CSV string).

    Returns:
        int | None: the label, or None when ``value`` is not an exact 0/1 label.
    """
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value if value in (0, 1) else None
    if isinstance(value, str):
        return LABEL_WORDS.get(value.strip().lower())
    return None


def _path(record: dict, key: str, where: str, required: bool) -> Optional[str]:
    value = record.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise AnnotationError(f'{where}: missing {key!r} (each record needs img_path and '
                                  'label)')
        return None
    if not isinstance(value, str):
        raise AnnotationError(f'{where}: {key} must be a path string, got '
                              f'{type(value).__name__} {value!r}; quote it')
    if '\x00' in value:
        raise AnnotationError(f'{where}: {key} {value!r} contains a NUL character; fix the '
                              'path')
    return value


def default_video_id(img_path: str, video_id_from: str) -> str:
    """A record's video when the list gives no ``video_id``.

    ``'image'`` (the default of the datasets): the image itself (its path), so still
    images are never pooled into a "video" whose score is the mean of unrelated photos.
    ``'folder'``: the image's folder as the list writes it (relative
    to the data root), for frames extracted into one folder per video: ``v1/0000.png``
    and ``v2/0000.png`` are two videos, and every image directly in the root is one
    video, ``'.'``.

    Args:
        img_path (str): the record's image path.
        video_id_from (str): ``'image'`` or ``'folder'``.

    Returns:
        str: the video id.
    """
    path = osp.normpath(img_path)
    if video_id_from == 'image':
        return path
    return osp.dirname(path) or '.'


def normalise_record(record: object, where: str, video_id_from: str = 'image') -> dict:
    """Checks one record and fills its defaults.

    Args:
        record (object): the record as read; must be a mapping.
        where (str): its place, e.g. ``'list.jsonl, line 3'``, for the messages.
        video_id_from (str): how to name a video without ``video_id`` (see
            :func:`default_video_id`). Defaults to 'image'.

    Returns:
        dict: the record with ``label`` 0/1, ``mask_path`` (or None), ``method``,
        ``video_id`` and ``video_id_source`` (``'video_id'`` when the record gives it,
        else ``video_id_from``); other fields as they were.
    """
    if not isinstance(record, dict):
        raise AnnotationError(f'{where}: a record must be an object with img_path and label, '
                              f'got {type(record).__name__} {str(record)[:60]!r}')
    img_path = _path(record, 'img_path', where, required=True)
    if record.get('label') in (None, ''):
        raise AnnotationError(f'{where}: missing {"label"!r} (each record needs img_path and '
                              'label)')
    label = parse_label(record['label'])
    if label is None:
        raise AnnotationError(f"{where}: label must be exactly 0 (real) or 1 (fake), got "
                              f"{record['label']!r}; {_LABEL_HELP}")
    method = record.get('method')
    if method in (None, ''):
        method = 'original' if label == 0 else 'unknown'
    elif not isinstance(method, str):
        raise AnnotationError(f'{where}: method must be a string, got {method!r}; quote it')
    video_id, source = record.get('video_id'), 'video_id'
    if video_id in (None, ''):
        video_id, source = default_video_id(img_path, video_id_from), video_id_from
    elif isinstance(video_id, bool) or not isinstance(video_id, (str, int)):
        raise AnnotationError(f'{where}: video_id must be a string, got {video_id!r}; quote it')
    out = dict(record)
    out.update(img_path=img_path, label=label, method=method, video_id=str(video_id),
               video_id_source=source, mask_path=_path(record, 'mask_path', where, required=False))
    return out


def check_records(path: str, records: List[dict], places: List[str]) -> None:
    """Refuses a list that names one image twice under one method (it would count twice in
    every metric) or gives one video two labels (video scores would be wrong).

    Args:
        path (str): the list, for the messages.
        records (list[dict]): normalised records.
        places (list[str]): each record's place without the file, e.g. ``'line 3'``.
    """
    seen: Dict[Tuple[str, str], int] = {}
    videos: Dict[Tuple[str, str], int] = {}
    for k, r in enumerate(records):
        key = (osp.normpath(r['img_path']), r['method'])
        first = seen.setdefault(key, k)
        if first != k:
            raise AnnotationError(
                f"{path}, {places[first]} and {places[k]}: img_path {r['img_path']!r} is listed "
                f"twice (method {r['method']!r}); each image is listed once per method: "
                'remove the repeated record')
        video = (r['method'], r['video_id'])
        first = videos.setdefault(video, k)
        if records[first]['label'] != r['label']:
            raise AnnotationError(
                f"{path}, {places[first]} and {places[k]}: one video (method {r['method']!r}, "
                f"video_id {r['video_id']!r}) is labelled {records[first]['label']} and "
                f"{r['label']}; a video has one label: fix the label or give the records "
                'their own video_id')
