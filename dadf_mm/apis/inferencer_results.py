"""What the forgery inferencer returns: one face (:class:`ForgeryPrediction`) and one video
(:class:`VideoPrediction`)."""
import warnings
from dataclasses import dataclass, field, replace
from typing import List, NamedTuple, Optional, Tuple

import numpy as np
from mmseg.structures import SegDataSample


class NonFiniteOutputError(ValueError):
    """A model output that is not a finite number (nan, inf); the message names the
    checkpoint, the input and the fix. No prediction is made of it: a nan fake probability
    would read as a face judged real."""


class ScoreDecision:
    """The decision of anything with a ``fake_probability`` and a ``threshold``."""

    fake_probability: float
    threshold: float

    @property
    def is_fake(self) -> bool:
        """bool: the decision, ``fake_probability > threshold``."""
        return bool(self.fake_probability > self.threshold)

    @property
    def decision(self) -> str:
        """str: ``'fake'`` or ``'real'``."""
        return 'fake' if self.is_fake else 'real'


@dataclass
class ForgeryPrediction(ScoreDecision):
    """One face.

    Attributes:
        name (str): the input's name (its path, or the name it was given).
        fake_probability (float): the probability that the face is fake.
        mask (np.ndarray): H x W uint8, 1 where forged, at the input's size (the whole
            picture or frame, also when a face was cropped from it): the pixels whose fake
            probability is above 0.5, on a face judged fake (a face judged real has an
            empty mask, so mask and decision agree).
        probability_map (np.ndarray): H x W float32 in [0, 1], the per-pixel fake
            probability at the input's size (not gated by the decision; 0 outside the
            face box).
        face_box (tuple, optional): where the face is in the input (x1, y1, side), when it
            was cropped from it (``face_box`` in :meth:`as_dict` and the JSON lines too;
            ``box`` is its deprecated old name). Defaults to None.
        info (dict): extras (a video frame's ``frame`` index and ``frame_image``).
            Defaults to an empty dict.
        threshold (float): the decision's threshold. Defaults to 0.5.
    """

    name: str
    fake_probability: float
    mask: np.ndarray
    probability_map: np.ndarray
    face_box: Optional[tuple] = None
    info: dict = field(default_factory=dict)
    threshold: float = 0.5

    @property
    def box(self) -> Optional[tuple]:
        """tuple | None: deprecated name of :attr:`face_box` (removed in the next
        release)."""
        warnings.warn('ForgeryPrediction.box is deprecated: use .face_box (the name of '
                      'the JSON lines)', DeprecationWarning, stacklevel=2)
        return self.face_box

    @property
    def forged_area(self) -> float:
        """float: the share of the face's pixels in the mask (of the face box's pixels
        inside the input, when the face was cropped from it)."""
        mask = self.mask
        if self.face_box is not None:
            x1, y1, side = self.face_box
            mask = mask[max(y1, 0):max(y1 + side, 0), max(x1, 0):max(x1 + side, 0)]
        return float(mask.mean()) if mask.size else 0.0

    def placed_in(self, shape: Tuple[int, int], face_box: tuple) -> 'ForgeryPrediction':
        """This prediction of a face crop placed in the picture it was cropped from: the
        crop's mask and probability map pasted at ``face_box`` into zero maps of
        ``shape`` (the parts outside the picture left out).

        Args:
            shape (tuple): the picture's (H, W).
            face_box (tuple): ``(x1, y1, side)``, the crop's square in the picture; the
                crop's maps are ``side`` x ``side``.

        Returns:
            ForgeryPrediction: a copy at the picture's size with ``face_box`` set.
        """
        return replace(self, mask=_pasted(self.mask, shape, face_box),
                       probability_map=_pasted(self.probability_map, shape, face_box),
                       face_box=tuple(int(v) for v in face_box))

    def as_dict(self) -> dict:
        """The JSON-able summary (no arrays).

        Returns:
            dict: ``name``, ``fake_probability``, ``is_fake``, ``decision``, ``threshold``,
            ``forged_area``, ``face_box``.
        """
        return dict(name=self.name, fake_probability=float(self.fake_probability),
                    is_fake=self.is_fake, decision=self.decision, threshold=self.threshold,
                    forged_area=self.forged_area,
                    face_box=list(self.face_box) if self.face_box else None)

    @classmethod
    def from_sample(cls, sample: SegDataSample, *, name: str,
                    threshold: float) -> 'ForgeryPrediction':
        """From a DADF ``SegDataSample`` (``pred_score``, ``pred_sem_seg``, ``seg_logits``
        holding probabilities, as ``DADF.predict`` makes them).

        Args:
            sample (SegDataSample): one result of ``model.test_step``.
            name (str): the input's name.
            threshold (float): the decision's threshold.

        Returns:
            ForgeryPrediction: the face's prediction, arrays on the CPU.
        """
        return cls(name=name, fake_probability=float(sample.pred_score),
                   mask=sample.pred_sem_seg.data[0].cpu().numpy().astype(np.uint8),
                   probability_map=sample.seg_logits.data[0].float().cpu().numpy(),
                   threshold=threshold)


def _pasted(crop: np.ndarray, shape: Tuple[int, int], face_box: tuple) -> np.ndarray:
    x1, y1, side = face_box
    if crop.shape[:2] != (side, side):
        raise ValueError(f'a {crop.shape[1]}x{crop.shape[0]} map cannot be placed in a '
                         f'face box of side {side}')
    full = np.zeros(tuple(shape[:2]), dtype=crop.dtype)
    h, w = full.shape
    sx1, sy1, sx2, sy2 = max(x1, 0), max(y1, 0), min(x1 + side, w), min(y1 + side, h)
    if sx2 > sx1 and sy2 > sy1:
        full[sy1:sy2, sx1:sx2] = crop[sy1 - y1:sy2 - y1, sx1 - x1:sx2 - x1]
    return full


class FrameScore(NamedTuple):
    """One point of a video's curve.

    Attributes:
        frame (int): the sampled frame's index in the video.
        fake_probability (float): its face's fake probability.
    """

    frame: int
    fake_probability: float


@dataclass
class VideoPrediction(ScoreDecision):
    """One video: its score and the curve of its sampled frames' scores.

    Attributes:
        name (str): the video's path.
        fake_probability (float): the video's score, the mean of its frames' scores.
        threshold (float): the decision's threshold.
        frames (list[ForgeryPrediction]): every sampled frame, in frame order (``info``
            holds ``frame``, the frame index, and ``frame_image``, the whole frame).
    """

    name: str
    fake_probability: float
    threshold: float
    frames: List[ForgeryPrediction]

    @property
    def frame_indices(self) -> List[int]:
        """list[int]: the sampled frames' indices, in order."""
        return [int(p.info['frame']) for p in self.frames]

    @property
    def frame_scores(self) -> List[FrameScore]:
        """list[FrameScore]: the per-frame curve in frame order, each sampled frame's
        ``(frame, fake_probability)``, ``frame`` its index in the video."""
        return [FrameScore(int(p.info['frame']), float(p.fake_probability))
                for p in self.frames]

    @classmethod
    def from_frames(cls, name: str, frames: List[ForgeryPrediction],
                    threshold: float) -> 'VideoPrediction':
        """The video of its frames' predictions.

        Args:
            name (str): the video's path.
            frames (list[ForgeryPrediction]): predictions with ``info['frame']``.
            threshold (float): the decision's threshold.

        Returns:
            VideoPrediction: scored as the mean of the frames' fake probabilities.

        Raises:
            ValueError: no frames.
        """
        if not frames:
            raise ValueError(f'{name}: no frames to score')
        ordered = sorted(frames, key=lambda p: int(p.info['frame']))
        score = float(np.mean([p.fake_probability for p in ordered]))
        return cls(name=name, fake_probability=score, threshold=threshold, frames=ordered)
