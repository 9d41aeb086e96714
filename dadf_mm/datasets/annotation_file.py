"""Annotation lists: one record per image, as JSON Lines, a JSON list, or CSV.

Fields of a record (CSV: a header row with these column names):

- ``img_path`` (required): the image, relative to the dataset's ``data_root``.
- ``mask_path``: its mask (any 8-bit image; forged where > 127, or where 1 for a 0/1
  label map); ``null`` / empty for a real image (read as all zero) or a fake one without
  a mask (then only detection is scored on it).
- ``label`` (required): 0 real, 1 fake.
- ``method``: e.g. ``'original'``, ``'Deepfakes'``; default ``'original'`` for real and
  ``'unknown'`` for fake images.
- ``video_id``: groups frames into videos for video-level scores; default the image's
  file name without extension.

Other fields are kept as they are.
"""
import csv
import json
import os
import os.path as osp
from typing import Iterable, List

REQUIRED = ('img_path', 'label')


class AnnotationError(ValueError):
    """A malformed annotation file; the message names the file and line."""


def _normalise(record: dict, where: str) -> dict:
    for key in REQUIRED:
        if record.get(key) in (None, ''):
            raise AnnotationError(
                f'{where}: missing {key!r} (each record needs img_path and label)')
    try:
        label = int(record['label'])
    except (TypeError, ValueError):
        label = -1
    if label not in (0, 1):
        raise AnnotationError(
            f"{where}: label must be 0 (real) or 1 (fake), got {record['label']!r}")
    out = dict(record)
    out['label'] = label
    out['mask_path'] = record.get('mask_path') or None
    out['method'] = record.get('method') or ('original' if label == 0 else 'unknown')
    stem = osp.splitext(osp.basename(str(record['img_path'])))[0]
    out['video_id'] = str(record.get('video_id') or stem)
    return out


def read_annotations(path: str) -> List[dict]:
    """Reads and checks an annotation file (``.jsonl``, ``.json`` or ``.csv``)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'annotation file {path} does not exist')
    ext = osp.splitext(path)[1].lower()
    records = []
    with open(path, newline='' if ext == '.csv' else None) as f:
        if ext == '.csv':
            for line, row in enumerate(csv.DictReader(f), start=2):
                records.append(_normalise(row, f'{path}, line {line}'))
        elif ext == '.json':
            data = json.load(f)
            if not isinstance(data, list):
                raise AnnotationError(
                    f'{path}: a .json annotation file must hold a list of records')
            records = [_normalise(r, f'{path}, record {i}') for i, r in enumerate(data)]
        elif ext == '.jsonl':
            for line, text in enumerate(f, start=1):
                if text.strip():
                    try:
                        record = json.loads(text)
                    except json.JSONDecodeError as err:
                        raise AnnotationError(f'{path}, line {line}: not JSON ({err})') from err
                    records.append(_normalise(record, f'{path}, line {line}'))
        else:
            raise AnnotationError(f'{path}: annotation files are .jsonl, .json or .csv')
    return records


def write_annotations(path: str, records: Iterable[dict]) -> int:
    """Writes records as JSON Lines (atomically); returns how many were written."""
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp'
    count = 0
    with open(tmp, 'w') as f:
        for record in records:
            f.write(json.dumps(record) + '\n')
            count += 1
    os.replace(tmp, path)
    return count
