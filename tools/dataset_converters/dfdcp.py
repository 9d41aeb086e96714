"""Face crops from the DeepFake Detection Challenge preview (DFDC-Preview, DFDC-P).

Detection only: labels, no masks. Input (the layout of the preview download, as
DeepfakeBench's ``preprocessing/preprocess.py`` and ``rearrange.py`` read it)::

    <dfdcp>/dataset.json          every video: {"<folder>/.../<name>.mp4": {"label":
                                  "real"|"fake", "set": "train"|"test", ...}}
    <dfdcp>/original_videos/...   the real videos
    <dfdcp>/method_A/...          fakes of the first method, e.g.
                                  method_A/1003254/1003254_A/1255229_1003254_A_001.mp4
    <dfdcp>/method_B/...          fakes of the second

Each key of ``dataset.json`` is the video's path in the download; its first folder is
the method (DeepfakeBench's DFDCP_Real, DFDCP_FakeA and DFDCP_FakeB come from it). Other
fields (``target_id``, ``swapped_id``, ``augmented``) are not needed. Output under
``<out>``::

    <set>/original/<video_id>/images/<frame:04d>.png       real videos
    <set>/method_A/<video_id>/images/<frame:04d>.png       fakes (method_A, method_B)
    annotations/dfdcp_test.jsonl, dfdcp_train.jsonl       by the "set" of dataset.json
    reports/dfdcp.json

``method`` is ``'original'`` for real videos and the method folder (``'method_A'``,
``'method_B'``) for fakes. ``video_id`` is the file name without its extension; where two
videos of one set and method share a name, theirs is the path below the method folder
with ``/`` as ``_``. ``--faces`` chooses whose face is cropped where a video shows
several people (default ``frequent``, see ``docs/data.md``).

    python tools/dataset_converters/dfdcp.py /data/dfdc_preview_set data/dfdcp
"""
import argparse
import json
import os.path as osp
import sys
from collections import Counter
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

SETS = ('train', 'test')
LABELS = {'real': 0, 'fake': 1}
REAL_FOLDER = 'original_videos'


def _entry(path: str, key: str, info: object) -> tuple:
    """(split, label, method folder, path below it) of one ``dataset.json`` item."""
    where = f'{path} key {key!r}'
    if not isinstance(info, dict):
        raise ConverterError(f'{where}: expected an object with "label" and "set", got '
                             f'{json.dumps(info)[:80]}')
    label, split = info.get('label'), info.get('set')
    if label not in LABELS:
        raise ConverterError(f'{where}: "label" must be "real" or "fake", got '
                             f'{json.dumps(label)}')
    if split not in SETS:
        raise ConverterError(f'{where}: "set" must be "train" or "test", got '
                             f'{json.dumps(split)}')
    parts = key.split('/')
    if len(parts) < 2 or '' in parts or '..' in parts:
        raise ConverterError(f'{where}: expected a video path inside the download, e.g. '
                             'method_A/<id>/<id>_A/<name>.mp4')
    return split, LABELS[label], parts[0], '/'.join(parts[1:])


def dfdcp_jobs(dfdcp_root: str) -> Dict[str, List[VideoJob]]:
    """Every video of ``dataset.json``, by its ``set``.

    Args:
        dfdcp_root (str): The download (has dataset.json).

    Returns:
        dict[str, list[VideoJob]]: ``'train'`` and ``'test'`` -> their videos.

    Raises:
        ConverterError: A missing or malformed ``dataset.json``, named with the key.
    """
    path = osp.join(dfdcp_root, 'dataset.json')
    entries = [(key, *_entry(path, key, info))
               for key, info in sorted(read_json_object(path).items())]
    methods = {key: ('original' if label == 0 else folder)
               for key, _, label, folder, _ in entries}
    stem = {key: osp.splitext(osp.basename(key))[0] for key, *_ in entries}
    shared = Counter((split, methods[key], stem[key]) for key, split, *_ in entries)
    splits: Dict[str, List[VideoJob]] = {split: [] for split in SETS}
    for key, split, label, _, below in entries:
        video_id = stem[key]
        if shared[split, methods[key], video_id] > 1:
            video_id = osp.splitext(below)[0].replace('/', '_')
        splits[split].append(VideoJob(osp.join(dfdcp_root, *key.split('/')), methods[key],
                                      video_id, label, split))
    return splits


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='DFDC-Preview videos -> face crops and the train / test lists')
    parser.add_argument('dfdcp_root', help='the DFDC-Preview download (has dataset.json)')
    parser.add_argument('out', help='output folder')
    parser.add_argument('--splits', nargs='+', default=['test'], choices=SETS,
                        help='the "set"s of dataset.json to convert (default: test)')
    add_conversion_arguments(parser)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    options = prepare_conversion(args, args.dfdcp_root)
    jobs = dfdcp_jobs(args.dfdcp_root)
    splits = {split: jobs[split] for split in dict.fromkeys(args.splits)}
    names = {split: f'dfdcp_{split}.jsonl' for split in splits}
    return convert_dataset('dfdcp', args.out, splits, names, options, workers=args.workers)


if __name__ == '__main__':
    run_converter(main, 'dfdcp.py', sys.argv[1:])
