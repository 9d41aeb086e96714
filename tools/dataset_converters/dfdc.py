"""Face crops from the DeepFake Detection Challenge (DFDC) full release.

Detection only: labels, no masks. Input (the layout DeepfakeBench's
``preprocessing/preprocess.py`` and ``rearrange.py`` read, as the Kaggle / Meta
downloads unzip)::

    <dfdc>/test/labels.csv                  header ``filename,label``; label 0 real, 1 fake
    <dfdc>/test/**/<filename>               the test videos (e.g. test/videos/aabb.mp4)
    <dfdc>/train/dfdc_train_part_<n>/metadata.json   (or <dfdc>/dfdc_train_part_<n>/)
    <dfdc>/train/dfdc_train_part_<n>/<name>.mp4

``metadata.json`` maps each video of its part to ``{"label": "FAKE"|"REAL", "split":
"train", "original": "<real video>.mp4"}`` (the Kaggle data description;
``original`` is null for real videos). The test videos are found by name anywhere under
``test/`` (DeepfakeBench globs ``test/**/*.mp4``). Output under ``<out>``::

    test/original/<video_id>/images/<frame:04d>.png    real test videos
    test/DFDC/<video_id>/images/<frame:04d>.png        fake test videos
    train/original/..., train/DFDC/...                 the training parts
    annotations/dfdc_test.jsonl        the official test set (labels.csv)
    annotations/dfdc_train.jsonl       every training part found (metadata.json)
    reports/dfdc.json

``video_id`` is the file name without ``.mp4``; ``method`` is ``'original'`` for real
videos and ``'DFDC'`` for fakes. Many DFDC videos show two people and the label is per
video: ``--faces`` chooses whose face is cropped (default ``frequent``, see
``docs/data.md``).

    python tools/dataset_converters/dfdc.py /data/DFDC data/dfdc --splits test
"""
import argparse
import csv
import glob
import json
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence

if __name__ == '__main__':  # a signal while the libraries load ends in one line as well
    from converter_start import stop_in_one_line_while_loading
    stop_in_one_line_while_loading()

from dadf_mm.preprocessing.conversion_errors import ConverterError  # noqa: E402
from dadf_mm.preprocessing.conversion_runner import convert_dataset  # noqa: E402
from dadf_mm.preprocessing.dataset_lists import read_json_object  # noqa: E402
from dadf_mm.preprocessing.video_conversion import VideoJob  # noqa: E402

from converter_setup import (  # noqa: E402
    add_conversion_arguments,
    prepare_conversion,
    run_converter,
)

METHOD = 'DFDC'
SPLITS = ('test', 'train')
TEST_LABELS = {'0': 0, '1': 1}
TRAIN_LABELS = {'REAL': 0, 'FAKE': 1}


def _job(source: str, label: int, group: str) -> VideoJob:
    video_id = osp.splitext(osp.basename(source))[0]
    return VideoJob(source, METHOD if label else 'original', video_id, label, group)


def read_test_labels(path: str) -> Dict[str, int]:
    """``labels.csv`` of the test set: file name -> label.

    Args:
        path (str): The file.

    Returns:
        dict[str, int]: Each video's label (0 real, 1 fake).

    Raises:
        ConverterError: A missing file or column, a label that is not 0 or 1, an empty
            or repeated file name, named with the file and line.
    """
    if not osp.isfile(path):
        raise ConverterError(f'{path} does not exist: the DFDC test set comes with '
                             'labels.csv (filename,label) in its test/ folder')
    labels: Dict[str, int] = {}
    try:
        with open(path, newline='', encoding='utf-8-sig') as f:
            rows = csv.DictReader(f)
            if not {'filename', 'label'} <= set(rows.fieldnames or ()):
                raise ConverterError(f'{path} line 1: expected the header filename,label, got '
                                     f'{",".join(rows.fieldnames or ()) or "nothing"}')
            for row in rows:
                where = f'{path} line {rows.line_num}'
                name, label = (row['filename'] or '').strip(), (row['label'] or '').strip()
                if not name:
                    raise ConverterError(f'{where}: empty filename')
                if label not in TEST_LABELS:
                    raise ConverterError(f'{where}: label must be 0 (real) or 1 (fake), got '
                                         f'{label!r}')
                if name in labels:
                    raise ConverterError(f'{where}: {name} is listed twice')
                labels[name] = TEST_LABELS[label]
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise ConverterError(f'{path} cannot be read ({err}); download it again') from None
    return labels


def test_jobs(dfdc_root: str) -> List[VideoJob]:
    """The official test set: every video of ``test/labels.csv``, found under ``test/``.

    Args:
        dfdc_root (str): The download.

    Returns:
        list[VideoJob]: One per listed video (a missing one points to ``test/videos/``).
    """
    test_dir = osp.join(dfdc_root, 'test')
    labels = read_test_labels(osp.join(test_dir, 'labels.csv'))
    found = {}
    for folder, _, names in sorted(os.walk(test_dir)):
        for name in names:
            found.setdefault(name, osp.join(folder, name))
    return [_job(found.get(name, osp.join(test_dir, 'videos', name)), label, 'test')
            for name, label in sorted(labels.items())]


def train_parts(dfdc_root: str) -> List[str]:
    """The training parts present: ``[train/]dfdc_train_part_<n>``, by part number.

    Args:
        dfdc_root (str): The download.

    Returns:
        list[str]: The part folders.
    """
    parts = [p for pattern in ('dfdc_train_part_*', osp.join('train', 'dfdc_train_part_*'))
             for p in glob.glob(osp.join(dfdc_root, pattern)) if osp.isdir(p)]
    number = osp.basename
    return sorted(parts, key=lambda p: (len(number(p)), number(p), p))


def train_jobs(dfdc_root: str) -> List[VideoJob]:
    """Every video of every training part's ``metadata.json``.

    Args:
        dfdc_root (str): The download.

    Returns:
        list[VideoJob]: The videos.

    Raises:
        ConverterError: No part, or a malformed ``metadata.json`` (named with the key).
    """
    parts = train_parts(dfdc_root)
    if not parts:
        raise ConverterError(f'no training part under {dfdc_root}: expected '
                             'train/dfdc_train_part_<n>/metadata.json (or dfdc_train_part_<n>/)')
    jobs = []
    for part in parts:
        path = osp.join(part, 'metadata.json')
        for name, info in read_json_object(path).items():
            label = info.get('label') if isinstance(info, dict) else None
            if label not in TRAIN_LABELS:
                raise ConverterError(f'{path} key {name!r}: expected an object with "label" '
                                     f'"REAL" or "FAKE", got {json.dumps(info)[:80]}')
            if osp.basename(name) != name or not name:
                raise ConverterError(f'{path} key {name!r}: expected a video file name')
            jobs.append(_job(osp.join(part, name), TRAIN_LABELS[label], 'train'))
    return jobs


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='DFDC videos -> face crops and the test / train lists')
    parser.add_argument('dfdc_root', help='the DFDC download (has test/ and the training parts)')
    parser.add_argument('out', help='output folder')
    parser.add_argument('--splits', nargs='+', default=['test'], choices=SPLITS,
                        help='test: the official test set (labels.csv); train: the training '
                        "parts' metadata.json (default: test)")
    add_conversion_arguments(parser)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    options = prepare_conversion(args, args.dfdc_root)
    read = {'test': test_jobs, 'train': train_jobs}
    splits = {split: read[split](args.dfdc_root) for split in dict.fromkeys(args.splits)}
    names = {split: f'dfdc_{split}.jsonl' for split in splits}
    return convert_dataset('dfdc', args.out, splits, names, options, workers=args.workers)


if __name__ == '__main__':
    run_converter(main, 'dfdc.py', sys.argv[1:])
