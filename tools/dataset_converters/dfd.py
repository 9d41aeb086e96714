"""Face crops from DeepFakeDetection (DFD), as the FaceForensics++ download ships it.

Detection only: the crops carry labels, no masks. Input::

    <ffpp>/original_sequences/actors/<comp>/videos/<actor>__<scene>.mp4
    <ffpp>/manipulated_sequences/DeepFakeDetection/<comp>/videos/<a>_<b>__<scene>__<code>.mp4

Output under ``<out>`` (the layout of ``ffpp.py``, so both may share one folder)::

    <comp>/original/<video_id>/images/<frame:04d>.png
    <comp>/DeepFakeDetection/<video_id>/images/<frame:04d>.png
    annotations/dfd_<comp>_test.jsonl        every video: DFD is a cross-dataset test set
    reports/dfd_<comp>.json

    python tools/dataset_converters/dfd.py /data/FaceForensics++ data/dfd --compression c23
"""
import argparse
import glob
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence

if __name__ == '__main__':  # a signal while the libraries load ends in one line as well
    from converter_start import stop_in_one_line_while_loading
    stop_in_one_line_while_loading()

from dadf_mm.preprocessing.conversion_errors import ConverterError  # noqa: E402
from dadf_mm.preprocessing.conversion_runner import convert_dataset  # noqa: E402
from dadf_mm.preprocessing.video_conversion import VideoJob  # noqa: E402

from converter_setup import (  # noqa: E402
    add_conversion_arguments,
    prepare_conversion,
    run_converter,
)

COMPRESSIONS = ('c23', 'c40', 'raw')
METHOD = 'DeepFakeDetection'


def dfd_jobs(ffpp_root: str, compression: str) -> List[VideoJob]:
    """Every real (actors) and fake (DeepFakeDetection) video of one compression."""
    folders = (('original', 0, ('original_sequences', 'actors')),
               (METHOD, 1, ('manipulated_sequences', METHOD)))
    jobs = []
    for method, label, parts in folders:
        pattern = osp.join(ffpp_root, *parts, compression, 'videos', '*.mp4')
        for path in sorted(glob.glob(pattern)):
            video_id = osp.splitext(osp.basename(path))[0]
            jobs.append(VideoJob(path, method, video_id, label, compression))
    return jobs


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='DeepFakeDetection videos -> face crops and a test list')
    parser.add_argument('ffpp_root', help='the FaceForensics++ download (has original_sequences/)')
    parser.add_argument('out', help='output folder')
    parser.add_argument('--compression', nargs='+', default=['c23'], choices=COMPRESSIONS,
                        help='c23 = HQ, c40 = LQ (default: c23)')
    add_conversion_arguments(parser)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, dict]:
    args = parse_args(argv)
    options = prepare_conversion(args, args.ffpp_root)
    reports = {}
    for comp in args.compression:
        jobs = dfd_jobs(args.ffpp_root, comp)
        if not jobs:
            raise ConverterError(
                f'no DFD videos under {args.ffpp_root}: expected original_sequences/actors/{comp}/'
                f'videos/*.mp4 and manipulated_sequences/{METHOD}/{comp}/videos/*.mp4 (download '
                "them with FaceForensics++'s script, -d DeepFakeDetection_original and "
                f'-d {METHOD})')
        reports[comp] = convert_dataset(f'dfd_{comp}', args.out, {'test': jobs},
                                        {'test': f'dfd_{comp}_test.jsonl'}, options,
                                        workers=args.workers)
    return reports


if __name__ == '__main__':
    run_converter(main, 'dfd.py', sys.argv[1:])
