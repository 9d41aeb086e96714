"""Annotation lists: one record per image, as JSON Lines, a JSON list, or CSV (UTF-8).

Fields of a record (CSV: a header row with these column names):

- ``img_path`` (required): the image, relative to the dataset's ``data_root``.
- ``mask_path``: its mask (any 8-bit image; forged where > 127, or where 1 for a 0/1
  label map); ``null`` / empty for a real image (read as all zero) or a fake one without
  a mask (then only detection is scored on it).
- ``label`` (required): exactly 0 real or 1 fake; also ``true``/``false`` and the strings
  ``'0'``, ``'1'``, ``'real'``, ``'fake'``, ``'true'``, ``'false'`` (any case). Anything
  else (``0.9``, ``2``, ``'yes'``) is an error, never rounded.
- ``method``: e.g. ``'original'``, ``'Deepfakes'``; default ``'original'`` for real and
  ``'unknown'`` for fake images.
- ``video_id``: groups frames into videos for video-level scores; without it each
  image is its own video (video scores then equal frame scores), or, with
  ``video_id_from='folder'``, the image's folder is its video (``v1/0000.png`` and
  ``v2/0000.png`` are two videos; images directly in the root are one video, ``'.'``).

Other fields are kept as they are. An image listed twice under one method, or one video
with two labels, is an error naming both lines. A UTF-8 byte-order mark is accepted.
"""
import csv
import io
import json
import os
import os.path as osp
from typing import Iterable, List, Tuple

from .annotation_record import REQUIRED, VIDEO_ID_FROM, check_records, normalise_record
from .errors import AnnotationError, MissingDataFileError, one_line

__all__ = ['AnnotationError', 'REQUIRED', 'read_annotations', 'write_annotations']
FORMATS = ('.jsonl', '.json', '.csv')


def _read_text(path: str) -> str:
    try:
        with open(path, 'rb') as f:
            data = f.read()
    except OSError as err:
        raise AnnotationError(f'{path}: cannot be read ({one_line(err)})') from err
    try:
        return data.decode('utf-8-sig')
    except UnicodeDecodeError as err:
        line = data.count(b'\n', 0, err.start) + 1
        raise AnnotationError(f'{path}, line {line}: not UTF-8 text (byte {err.start}); save '
                              'the list as UTF-8') from err


def _parse_json(text: str, where: str, add_line: bool) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        line = f', line {err.lineno}' if add_line else ''
        raise AnnotationError(f'{where}{line}: not JSON ({err.msg}, column {err.colno}); write '
                              'one JSON object per record') from err
    except (ValueError, RecursionError) as err:  # e.g. too deep, an integer too long
        raise AnnotationError(f'{where}: not usable JSON ({one_line(err)}); write one JSON '
                              'object per record') from err


def _jsonl(path: str, text: str) -> List[Tuple[object, str]]:
    rows = []
    for line, body in enumerate(text.split('\n'), start=1):
        if body.strip():
            rows.append((_parse_json(body, f'{path}, line {line}', False), f'line {line}'))
    return rows


def _json(path: str, text: str) -> List[Tuple[object, str]]:
    data = _parse_json(text, path, True) if text.strip() else None
    if not isinstance(data, list):
        raise AnnotationError(f'{path}: a .json annotation file must hold a list of records '
                              f'(objects), got {type(data).__name__}')
    return [(record, f'item [{i}]') for i, record in enumerate(data)]


def _csv(path: str, text: str) -> List[Tuple[object, str]]:
    reader = csv.reader(io.StringIO(text, newline=''))
    rows, header = [], None
    try:
        for row in reader:
            if not row or not any(cell.strip() for cell in row):
                continue
            if header is None:
                header = [name.strip() for name in row]
                _check_header(path, header, reader.line_num)
                continue
            if len(row) != len(header):
                raise AnnotationError(
                    f'{path}, line {reader.line_num}: {len(row)} fields but the header has '
                    f'{len(header)} ({",".join(header)}); fix the row')
            rows.append((dict(zip(header, row)), f'line {reader.line_num}'))
    except csv.Error as err:
        raise AnnotationError(f'{path}, line {reader.line_num}: not valid CSV ({err}); check '
                              'its quotes') from err
    return rows


def _check_header(path: str, header: List[str], line: int) -> None:
    missing = [key for key in REQUIRED if key not in header]
    if missing:
        raise AnnotationError(
            f'{path}, line {line}: the CSV header {header[:8]} has no column '
            f'{" or ".join(missing)}; the first row must name the columns (img_path, label, '
            'mask_path, method, video_id)')
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise AnnotationError(f'{path}, line {line}: the CSV header repeats column(s) '
                              f'{repeated}; name each column once')


def read_annotations(path: str, video_id_from: str = 'image') -> List[dict]:
    """Reads and checks an annotation file (``.jsonl``, ``.json`` or ``.csv``).

    Args:
        path (str): the list.
        video_id_from (str): a record without ``video_id`` is its own video,
            ``'image'``, or is in the video of its ``'folder'`` (frames extracted into
            one folder per video). Defaults to 'image'.

    Returns:
        list[dict]: normalised records (see the module docstring), in file order.

    Raises:
        MissingDataFileError: the file does not exist.
        AnnotationError: anything wrong in it, naming the file and line (or JSON item).
    """
    if video_id_from not in VIDEO_ID_FROM:
        raise ValueError(f'video_id_from must be one of {VIDEO_ID_FROM}, got {video_id_from!r}')
    if not osp.exists(path):
        raise MissingDataFileError(f'annotation file {path} does not exist')
    if not osp.isfile(path):
        raise AnnotationError(f'{path}: is not a file; give the annotation list itself')
    ext = osp.splitext(path)[1].lower()
    if ext not in FORMATS:
        raise AnnotationError(f'{path}: annotation files are .jsonl, .json or .csv')
    text = _read_text(path)
    rows = {'.jsonl': _jsonl, '.json': _json, '.csv': _csv}[ext](path, text)
    records = [normalise_record(record, f'{path}, {place}', video_id_from)
               for record, place in rows]
    check_records(path, records, [place for _, place in rows])
    return records


def write_annotations(path: str, records: Iterable[dict]) -> int:
    """Writes records as JSON Lines (atomically); returns how many were written.

    Args:
        path (str): The list to write (its folder is created; an existing file is replaced).
        records (Iterable[dict]): The records, each JSON-serialisable.

    Returns:
        int: The number of records written.
    """
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    tmp = f'{path}.tmp'
    count = 0
    with open(tmp, 'w', encoding='utf-8') as f:
        for record in records:
            f.write(json.dumps(record) + '\n')
            count += 1
    os.replace(tmp, path)
    return count
