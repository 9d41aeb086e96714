"""Face crops and forgery masks from the official FaceForensics++ download.

Input, as FaceForensics++'s download script lays it out (``-t videos`` and ``-t masks``)::

    <ffpp>/original_sequences/youtube/<comp>/videos/<id>.mp4
    <ffpp>/manipulated_sequences/<Method>/<comp>/videos/<target>_<source>.mp4
    <ffpp>/manipulated_sequences/<Method>/masks/videos/<target>_<source>.mp4

with ``<comp>`` one of ``c23`` (HQ), ``c40`` (LQ), ``raw``. The download has mask videos
for Deepfakes, Face2Face, FaceSwap and NeuralTextures, none for FaceShifter (the script
answers ``-d FaceShifter -t masks`` with "Masks not available for FaceShifter"). A method
without a ``masks/`` folder is converted without masks: its fakes are detection-only
(``mask_path`` null, ``has_mask`` False in the datasets) and the report names it; in a
method with a ``masks/`` folder, a fake whose mask video is absent fails as
``mask video missing``. FaceShifter uses the official splits as the other methods::

    python tools/dataset_converters/ffpp.py /data/FaceForensics++ data/ffpp \\
        --methods FaceShifter --compression c23

Output under ``<out>``::

    <comp>/original/<id>/images/<frame:04d>.png                 real face crops
    <comp>/<Method>/<target>_<source>/images/<frame:04d>.png    fake face crops
    <comp>/<Method>/<target>_<source>/masks/<frame:04d>.png     same crop of the mask, 0/255
    <comp>/<...>/video.json                                     frame numbers and boxes
    annotations/ffpp_<comp>_<split>.jsonl                       one record per frame
    reports/ffpp_<comp>.json                                    done / skipped / failed

``<frame>`` is the frame's number in the video: ``--num-frames`` (32) evenly spaced
frames. One square box (the tracked face, times ``--margin`` 1.3) cuts each frame and
its mask; a mask pixel is forged when its grey value exceeds ``--mask-threshold`` (127).
Real videos get no mask files (their masks are all zero). The splits are the official
ones (``dadf_mm/datasets/splits``); records: ``img_path``, ``mask_path`` (or null),
``label`` (0/1), ``method``, ``video_id``, ``frame``, paths relative to ``<out>``.

A rerun skips videos complete with the same options, and redoes interrupted ones and ones
converted with other options (the report says why)::

    python tools/dataset_converters/ffpp.py /data/FaceForensics++ data/ffpp \\
        --compression c23 c40 --workers 8
"""
import argparse
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence

if __name__ == '__main__':  # a signal while the libraries load ends in one line as well
    from converter_start import stop_in_one_line_while_loading
    stop_in_one_line_while_loading()

from dadf_mm.datasets.ffpp_splits import SPLITS, ffpp_split_videos  # noqa: E402
from dadf_mm.preprocessing.conversion_errors import ConverterError  # noqa: E402
from dadf_mm.preprocessing.conversion_runner import convert_dataset  # noqa: E402
from dadf_mm.preprocessing.video_conversion import VideoJob  # noqa: E402

from converter_setup import (  # noqa: E402
    add_conversion_arguments,
    prepare_conversion,
    run_converter,
)

METHODS = ('Deepfakes', 'Face2Face', 'FaceSwap', 'NeuralTextures')
ALL_METHODS = METHODS + ('FaceShifter', )
COMPRESSIONS = ('c23', 'c40', 'raw')


def has_mask_videos(ffpp_root: str, method: str) -> bool:
    """Whether the download has the method's ``masks/`` folder (FaceShifter never has)."""
    return osp.isdir(osp.join(ffpp_root, 'manipulated_sequences', method, 'masks'))


def ffpp_jobs(ffpp_root: str, compression: str, split: str, methods: Sequence[str],
              with_masks: bool = True) -> List[VideoJob]:
    """Every video an official split lists, real and fake, for the given methods."""
    real_ids, fake_ids = ffpp_split_videos(split)
    jobs = [
        VideoJob(osp.join(ffpp_root, 'original_sequences', 'youtube', compression, 'videos',
                          f'{vid}.mp4'), 'original', vid, 0, compression) for vid in real_ids
    ]
    for method in methods:
        base = osp.join(ffpp_root, 'manipulated_sequences', method)
        masks = with_masks and has_mask_videos(ffpp_root, method)
        for vid in fake_ids:
            mask = osp.join(base, 'masks', 'videos', f'{vid}.mp4') if masks else None
            jobs.append(VideoJob(osp.join(base, compression, 'videos', f'{vid}.mp4'), method,
                                 vid, 1, compression, mask))
    return jobs


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='FaceForensics++ videos -> face crops, masks and split lists')
    parser.add_argument('ffpp_root', help='the FaceForensics++ download (has original_sequences/)')
    parser.add_argument('out', help='output folder')
    parser.add_argument('--methods', nargs='+', default=list(METHODS), choices=ALL_METHODS,
                        help='manipulation methods (default: the four of the paper)')
    parser.add_argument('--compression', nargs='+', default=['c23'], choices=COMPRESSIONS,
                        help='c23 = HQ, c40 = LQ (default: c23)')
    parser.add_argument('--splits', nargs='+', default=list(SPLITS), choices=SPLITS,
                        help='official splits to convert (default: all)')
    parser.add_argument('--no-masks', action='store_true',
                        help='do not read mask videos (fakes then support detection only)')
    add_conversion_arguments(parser)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, dict]:
    args = parse_args(argv)
    options = prepare_conversion(args, args.ffpp_root)
    if not osp.isdir(osp.join(args.ffpp_root, 'original_sequences')):
        raise ConverterError(f'{args.ffpp_root} has no original_sequences/: pass the folder '
                             "that FaceForensics++'s download script wrote")
    without = [m for m in args.methods if not has_mask_videos(args.ffpp_root, m)]
    if without and not args.no_masks:
        print(f'no mask videos for {", ".join(without)} (no manipulated_sequences/<method>/'
              'masks/ in the download): their fakes are detection-only')
    reports = {}
    for comp in args.compression:
        # the lists also keep methods converted by earlier runs
        listed = [m for m in ALL_METHODS
                  if m in args.methods or osp.isdir(osp.join(args.out, comp, m))]
        run = [job for s in args.splits
               for job in ffpp_jobs(args.ffpp_root, comp, s, args.methods, not args.no_masks)]
        splits = {s: ffpp_jobs(args.ffpp_root, comp, s, listed, not args.no_masks)
                  for s in args.splits}
        names = {s: f'ffpp_{comp}_{s}.jsonl' for s in args.splits}
        reports[comp] = convert_dataset(f'ffpp_{comp}', args.out, splits, names, options,
                                        workers=args.workers, run=run)
    return reports


if __name__ == '__main__':
    run_converter(main, 'ffpp.py', sys.argv[1:])
