"""Face crops from UADFV (Yang, Li and Lyu, "Exposing Deep Fakes Using Inconsistent Head
Poses", ICASSP 2019): 49 real YouTube videos and the 49 deepfakes made from them.

Detection only: labels, no masks; every video is test data (UADFV has no split; DeepfakeBench
lists each video in train, val and test alike). Input, as the download unpacks (the two
folders DeepfakeBench's preprocess.py and rearrange.py read)::

    <uadfv>/real/<id>.mp4         real, e.g. 0000.mp4
    <uadfv>/fake/<id>_fake.mp4    the deepfake made from real/<id>.mp4, e.g. 0000_fake.mp4

The folder gives the label, so a video in the wrong folder (a ``_fake`` name in ``real/``,
or one without it in ``fake/``) stops the run before anything is written, naming the file.
Output under ``<out>``::

    test/original/<id>/images/<frame:04d>.png          real
    test/UADFV/<id>_fake/images/<frame:04d>.png        fake
    annotations/uadfv_test.jsonl
    reports/uadfv.json

``video_id`` is the file name without ``.mp4``. ::

    python tools/dataset_converters/uadfv.py /data/UADFV data/uadfv
"""
import argparse
import glob
import os.path as osp
import sys
from typing import List, Optional, Sequence

if __name__ == '__main__':  # a signal while the libraries load ends in one line as well
    from converter_start import stop_in_one_line_while_loading
    stop_in_one_line_while_loading()

from dadf_mm.preprocessing.conversion_errors import ConverterError  # noqa: E402
from dadf_mm.preprocessing.conversion_runner import convert_dataset  # noqa: E402
from dadf_mm.preprocessing.video_conversion import VideoJob  # noqa: E402

from converter_setup import (  # noqa: E402
    add_conversion_arguments,
    check_input_folders,
    prepare_conversion,
    run_converter,
)

METHOD = 'UADFV'
FAKE_SUFFIX = '_fake'
GROUP = 'test'


def uadfv_jobs(root: str) -> List[VideoJob]:
    """Every real and fake video, each name checked against its folder.

    Args:
        root (str): The UADFV download (has ``real/`` and ``fake/``).

    Returns:
        list[VideoJob]: The real videos, then the fakes, in name order.

    Raises:
        ConverterError: No video, or a video whose name does not fit its folder.
    """
    jobs = []
    for folder, method, label in (('real', 'original', 0), ('fake', METHOD, 1)):
        for path in sorted(glob.glob(osp.join(root, folder, '*.mp4'))):
            video_id = osp.splitext(osp.basename(path))[0]
            if video_id.endswith(FAKE_SUFFIX) != bool(label):
                wanted = f'<id>{FAKE_SUFFIX}.mp4' if label else f'<id>.mp4 (no {FAKE_SUFFIX})'
                raise ConverterError(
                    f'{path}: UADFV names the videos in {folder}/ {wanted}; the folder gives '
                    'the label, so move the video to the folder its name says')
            jobs.append(VideoJob(path, method, video_id, label, GROUP))
    if not jobs:
        raise ConverterError(f'no UADFV videos under {root}: expected real/<id>.mp4 and '
                             f'fake/<id>{FAKE_SUFFIX}.mp4')
    return jobs


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='UADFV videos -> face crops and a test list')
    parser.add_argument('root', help='the UADFV download (has real/ and fake/)')
    parser.add_argument('out', help='output folder')
    add_conversion_arguments(parser)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    check_input_folders(args.root)
    jobs = uadfv_jobs(args.root)  # checked before anything is written
    without = sorted(j.video_id for j in jobs if j.label == 1
                     and not osp.exists(osp.join(args.root, 'real',
                                                 j.video_id[:-len(FAKE_SUFFIX)] + '.mp4')))
    if without:
        print(f'warning: {len(without)} fakes have no real video of the same id in real/, '
              f'e.g. {without[0]}')
    options = prepare_conversion(args, args.root)
    return convert_dataset('uadfv', args.out, {'test': jobs}, {'test': 'uadfv_test.jsonl'},
                           options, workers=args.workers)


if __name__ == '__main__':
    run_converter(main, 'uadfv.py', sys.argv[1:])
