"""Face crops from DeepfakeTIMIT (fakes) and VidTIMIT (the real videos it was made from).

Detection only: labels, no masks. Input::

    <dftimit>/higher_quality/<subject>/<name>.avi      HQ fakes (e.g. fadg0/sa1-video-fram1.avi)
    <dftimit>/lower_quality/<subject>/<name>.avi       LQ fakes
    <vidtimit>/<subject>/video/<utterance>/<NNN>       VidTIMIT frames (JPEG, no extension),
        or <vidtimit>/<subject>/[video/]<utterance>.avi|.mp4   if already made into videos

Real videos are the VidTIMIT utterances (not the ``head*`` rotation clips) of the subjects
that DeepfakeTIMIT uses. Output under ``<out>``::

    higher_quality/DF-TIMIT/<subject>_<name>/images/<frame:04d>.png
    lower_quality/DF-TIMIT/<subject>_<name>/images/<frame:04d>.png
    vidtimit/original/<subject>_<utterance>/images/<frame:04d>.png
    annotations/dftimit_hq_test.jsonl      HQ fakes + real videos
    annotations/dftimit_lq_test.jsonl      LQ fakes + real videos
    reports/dftimit.json

    python tools/dataset_converters/dftimit.py /data/DeepfakeTIMIT /data/VidTIMIT data/dftimit
"""
import argparse
import glob
import os
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
    prepare_conversion,
    run_converter,
)

QUALITIES = {'hq': 'higher_quality', 'lq': 'lower_quality'}
METHOD = 'DF-TIMIT'
VIDEO_EXTS = ('.avi', '.mp4', '.mov', '.mkv')


def _subdirs(path: str) -> List[str]:
    return sorted(n for n in os.listdir(path) if osp.isdir(osp.join(path, n))) \
        if osp.isdir(path) else []


def fake_jobs(dftimit_root: str, quality: str) -> List[VideoJob]:
    folder = QUALITIES[quality]
    jobs = []
    for subject in _subdirs(osp.join(dftimit_root, folder)):
        for path in sorted(glob.glob(osp.join(dftimit_root, folder, subject, '*'))):
            stem, ext = osp.splitext(osp.basename(path))
            if ext.lower() in VIDEO_EXTS:
                jobs.append(VideoJob(path, METHOD, f'{subject}_{stem}', 1, folder))
    return jobs


def real_jobs(vidtimit_root: str, subjects: Sequence[str]) -> List[VideoJob]:
    jobs = []
    for subject in subjects:
        base = osp.join(vidtimit_root, subject)
        video_dir = osp.join(base, 'video') if osp.isdir(osp.join(base, 'video')) else base
        sources = {n: osp.join(video_dir, n) for n in _subdirs(video_dir)}  # frame folders
        for path in glob.glob(osp.join(video_dir, '*')):
            stem, ext = osp.splitext(osp.basename(path))
            if ext.lower() in VIDEO_EXTS:
                sources[stem] = path
        for utterance, source in sorted(sources.items()):
            if not utterance.startswith('head'):
                jobs.append(VideoJob(source, 'original', f'{subject}_{utterance}', 0, 'vidtimit'))
    return jobs


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='DeepfakeTIMIT + VidTIMIT -> face crops and test lists')
    parser.add_argument('dftimit_root', help='DeepfakeTIMIT (has higher_quality/, lower_quality/)')
    parser.add_argument('vidtimit_root', help='VidTIMIT (one folder per subject)')
    parser.add_argument('out', help='output folder')
    parser.add_argument('--quality', nargs='+', default=['hq', 'lq'], choices=sorted(QUALITIES),
                        help='DeepfakeTIMIT qualities (default: hq lq)')
    add_conversion_arguments(parser)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    options = prepare_conversion(args, args.dftimit_root, args.vidtimit_root)
    fakes = {q: fake_jobs(args.dftimit_root, q) for q in args.quality}
    subjects = sorted({osp.basename(osp.dirname(job.source)) for jobs in fakes.values()
                       for job in jobs})
    if not subjects:
        raise ConverterError(f'no DeepfakeTIMIT videos under {args.dftimit_root}: expected '
                         f'{"/".join(QUALITIES[q] for q in args.quality)}/<subject>/*.avi')
    reals = real_jobs(args.vidtimit_root, subjects)
    if not reals:
        raise ConverterError(f'no VidTIMIT videos under {args.vidtimit_root} for the subjects '
                         f'{subjects[:3]}...: expected <subject>/video/<utterance>/ frame folders')
    without = sorted(set(subjects) - {job.video_id.split('_')[0] for job in reals})
    if without:
        print(f'warning: no VidTIMIT videos for {len(without)} DeepfakeTIMIT subjects '
              f'({", ".join(without)}); the test lists have fewer real videos')
    splits = {q: fakes[q] + reals for q in args.quality}
    names = {q: f'dftimit_{q}_test.jsonl' for q in args.quality}
    return convert_dataset('dftimit', args.out, splits, names, options,
                           workers=args.workers)


if __name__ == '__main__':
    run_converter(main, 'dftimit.py', sys.argv[1:])
