"""A converter's command line and the checks made before any video is read: the shared
options and their ranges (:func:`options_from_args`), the detector, the input and output
folders (:func:`prepare_conversion`)."""
import argparse
import math
import os
import os.path as osp
import tempfile
from typing import Iterable, Optional

from ..engine.atomic_files import nearest_existing
from .conversion_errors import ConverterError
from .face_detector import HaarFaceDetector, resolve_detector_factory
from .video_conversion import ConversionOptions

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
    parser.add_argument('--detector', default='haar',
                        help="'haar' (OpenCV Haar cascade, default) or 'package.module:factory', "
                        'a function returning a callable BGR frame -> [(x1, y1, x2, y2, score)]')


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
                             mask_threshold=args.mask_threshold, detector=args.detector)


def check_detector_or_exit(spec: Optional[str]) -> None:
    """Fails early on a bad --detector: imports a plugged-in factory (without calling it,
    so that CUDA is first used inside the workers) or builds the Haar detector.

    Args:
        spec (str, optional): The ``--detector`` value.

    Raises:
        ConverterError: The detector cannot be imported or built.
    """
    try:
        factory = resolve_detector_factory(spec)
        if factory is HaarFaceDetector:
            HaarFaceDetector()
    except (ValueError, FileNotFoundError, RuntimeError) as err:
        raise ConverterError(f'--detector: {err}') from err


def check_output_folder(root: str, folders: Iterable[str] = ()) -> None:
    """Fails before any video is read when the output cannot be written: ``root`` (made
    if missing) and, for each of ``folders``, the nearest folder that exists get a probe
    file written and removed.

    Args:
        root (str): The output root.
        folders (Iterable[str]): Folders the run will write into (made later if missing).
            Defaults to ().

    Raises:
        ConverterError: ``root`` is a file, or a folder cannot be written, named with the
            system's reason and the fix.
    """
    if osp.exists(root) and not osp.isdir(root):
        raise ConverterError(f'output folder {root} is a file; pass a folder (it is made if '
                             'missing)')
    try:
        os.makedirs(root, exist_ok=True)
    except OSError as err:
        raise ConverterError(f'output folder {root} cannot be made ({err.strerror}); pass a '
                             'folder you can write to') from err
    for folder in dict.fromkeys([root, *(nearest_existing(f) for f in folders)]):
        if not osp.isdir(folder):
            raise ConverterError(f'{folder} in the output folder {root} is a file, where the '
                                 'converter writes a folder; move it away')
        try:
            handle, probe = tempfile.mkstemp(prefix='.write-check-', dir=folder)
            os.close(handle)
            os.remove(probe)
        except OSError as err:
            raise ConverterError(
                f'output folder {folder} is not writable ({err.strerror}); pass a writable '
                'output folder, or make it writable (e.g. chmod -R u+w, or a read-write '
                'mount)') from err


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


