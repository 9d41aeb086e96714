"""What the forgery inferencer returns: one face (:class:`ForgeryPrediction`) and one video
(:class:`VideoPrediction`)."""
from dataclasses import dataclass, field
from typing import List, Optional

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
        mask (np.ndarray): H x W uint8, 1 where forged, at the input's size: the pixels
            whose fake probability is above 0.5, on a face judged fake (a face judged real
            has an empty mask, so mask and decision agree).
        probability_map (np.ndarray): H x W float32 in [0, 1], the per-pixel fake
            probability at the input's size (not gated by the decision).
        box (tuple, optional): where the face is in the original picture (x1, y1, side),
            when it was cropped from it. Defaults to None.
        info (dict): extras (a video frame's ``frame`` index and ``frame_image``).
            Defaults to an empty dict.
        threshold (float): the decision's threshold. Defaults to 0.5.
    """

    name: str
    fake_probability: float
    mask: np.ndarray
    probability_map: np.ndarray
    box: Optional[tuple] = None
    info: dict = field(default_factory=dict)
    threshold: float = 0.5

    @property
    def forged_area(self) -> float:
        """float: the share of the face's pixels in the mask."""
        return float(self.mask.mean()) if self.mask.size else 0.0

    def as_dict(self) -> dict:
        """The JSON-able summary (no arrays).

        Returns:
            dict: ``name``, ``fake_probability``, ``is_fake``, ``decision``, ``threshold``,
            ``forged_area``, ``face_box``.
        """
        return dict(name=self.name, fake_probability=float(self.fake_probability),
                    is_fake=self.is_fake, decision=self.decision, threshold=self.threshold,
                    forged_area=self.forged_area,
                    face_box=list(self.box) if self.box else None)

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
    def frame_scores(self) -> List[float]:
        """list[float]: the per-frame curve, each sampled frame's fake probability in
        frame order."""
        return [float(p.fake_probability) for p in self.frames]

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
