"""The forgery inferencer on faces in pictures and videos (:class:`FaceInference`): the
largest face of a picture, or the tracked face of a video's sampled frames, cropped and
predicted, the crop's prediction placed back at the picture's (or frame's) size."""
from typing import Callable, List, Optional, Sequence

import numpy as np

from ..preprocessing import (
    FaceTracker,
    build_face_detector,
    crop_square,
    sample_frames,
    square_box,
    track_faces,
)
from .inferencer_results import ForgeryPrediction, VideoPrediction


class FaceInference:
    """Face and video prediction of :class:`~.inferencer.ForgeryInferencer` (its
    :meth:`predict`, ``threshold`` and ``face_detector``)."""

    threshold: float
    face_detector: object
    predict: Callable[[Sequence[np.ndarray], Sequence[str]], List[ForgeryPrediction]]

    def default_detector(self):
        """The face detector of calls that name none (CenterFace unless set).

        Returns:
            FaceDetector: :attr:`face_detector`, built on first use.
        """
        self.face_detector = self.face_detector or build_face_detector()
        return self.face_detector

    def predict_image(self, image: np.ndarray, name: str, *, detect_faces: bool = False,
                      detector=None, margin: float = 1.3) -> ForgeryPrediction:
        """One image.

        Args:
            image (np.ndarray): BGR uint8, any size.
            name (str): its name (it seeds the noisy view).
            detect_faces (bool): crop its largest face first; the prediction is still at
                the image's size, the crop's mask and map pasted at ``face_box`` (where the
                face is). Defaults to False.
            detector (callable, optional): the face detector. Defaults to None (CenterFace).
            margin (float): crop side as a multiple of the face. Defaults to 1.3.

        Returns:
            ForgeryPrediction: the image's (or its face's) prediction.

        Raises:
            ValueError: ``detect_faces`` and no face found.
        """
        if not detect_faces:
            return self.predict([image], [name])[0]
        detector = detector or self.default_detector()
        faces = detector(image)
        if not faces:
            raise ValueError(f'no face found in {name}; pass it as a face crop '
                             '(without --detect-faces) or use a stronger --detector')
        face = max(faces, key=lambda d: d.area)
        cx, cy = face.center
        box = square_box(cx, cy, max(face.width, face.height), margin=margin)
        pred = self.predict([crop_square(image, box)], [name])[0]
        return pred.placed_in(image.shape[:2], box)

    def predict_video(self, path: str, *, num_frames: int = 32, detector=None,
                      margin: float = 1.3, name: Optional[str] = None
                      ) -> List[ForgeryPrediction]:
        """Evenly spaced frames of a video, each cropped to the tracked face.

        Args:
            path (str): the video.
            num_frames (int): frames to sample. Defaults to 32.
            detector (callable, optional): the face detector. Defaults to None (CenterFace).
            margin (float): crop side as a multiple of the face. Defaults to 1.3.
            name (str, optional): the video's name; frame ``N`` is named
                ``<name>#frame<N>`` (it seeds the frame's noisy view). Defaults to None
                (``path``).

        Returns:
            list[ForgeryPrediction]: per frame, at the frame's size; ``info`` holds
            ``frame`` (index) and ``frame_image`` (the whole frame, BGR), ``face_box``
            the face.

        Raises:
            ValueError: no face in any sampled frame (naming the video).
        """
        sampled = sample_frames(path, num_frames)
        detector = detector or self.default_detector()
        tracked = track_faces([detector(frame) for frame in sampled.frames], FaceTracker())
        if all(face is None for face in tracked):
            raise ValueError(f'no face found in any sampled frame of {path}')
        crops, names, boxes = [], [], []
        for index, frame, face in zip(sampled.indices, sampled.frames, tracked):
            box = square_box(face.center_x, face.center_y, face.size, margin=margin)
            crops.append(crop_square(frame, box))
            names.append(f'{name or path}#frame{index:06d}')
            boxes.append(box)
        preds = []
        for pred, box, index, frame in zip(self.predict(crops, names), boxes,
                                           sampled.indices, sampled.frames):
            pred = pred.placed_in(frame.shape[:2], box)
            pred.info = dict(frame=int(index), frame_image=frame)
            preds.append(pred)
        return preds

    def predict_video_score(self, path: str, *, num_frames: int = 32, detector=None,
                            margin: float = 1.3, name: Optional[str] = None
                            ) -> VideoPrediction:
        """A video's score (the mean of its frames'), decision and per-frame curve.

        Args:
            path (str): the video.
            num_frames (int): frames to sample. Defaults to 32.
            detector (callable, optional): the face detector. Defaults to None (CenterFace).
            margin (float): crop side as a multiple of the face. Defaults to 1.3.
            name (str, optional): the video's name for its frames' noisy views. Defaults
                to None (``path``).

        Returns:
            VideoPrediction: the video, its frames from :meth:`predict_video`;
            ``frame_scores`` its curve of ``(frame, fake_probability)``.
        """
        frames = self.predict_video(path, num_frames=num_frames, detector=detector,
                                    margin=margin, name=name)
        return VideoPrediction.from_frames(path, frames, self.threshold)
