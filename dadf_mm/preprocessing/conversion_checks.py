"""Checks made before any video is read: the face detector builds
(:func:`check_detector_or_exit`) and the output folders can be written
(:func:`check_output_folder`)."""
import os
import os.path as osp
import tempfile
from typing import Iterable, Optional

from ..engine.atomic_files import nearest_existing
from .conversion_errors import ConverterError
from .face_detector import BUILT_IN_DETECTORS, HaarFaceDetector, resolve_detector_factory


def check_detector_or_exit(spec: Optional[str]) -> None:
    """Fails early on a bad --detector: imports a plugged-in factory (without calling it,
    so that CUDA is first used inside the workers) or builds the built-in detector
    (CenterFace's missing or damaged model file, Haar's missing cascade).

    Args:
        spec (str, optional): The ``--detector`` value.

    Raises:
        ConverterError: The detector cannot be imported or built.
    """
    try:
        factory = resolve_detector_factory(spec)
        if factory is HaarFaceDetector or factory in BUILT_IN_DETECTORS.values():
            factory()
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


