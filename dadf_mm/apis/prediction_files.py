"""The files of a run of predictions, as ``tools/infer.py`` writes them and the web page
offers them for download: per image or video frame, at the input's size,

- ``overlays/<name>.png``: the forged region in red and a banner with the decision;
- ``heatmaps/<name>.png``: the per-pixel fake probability (JET colours) on the picture;
- ``masks/<name>.png``: the binary mask, 8-bit, 255 forged / 0 not;
- ``probability_maps/<name>.png``: the fake probability, 16-bit grey, ``value / 65535``;

one strict JSON line per image, frame, video and refused input in ``predictions.jsonl``,
and, when given, the model that made them in ``model.json``
(:meth:`~.model_card.ModelCard.as_dict`). ``<name>`` is :func:`~.inference.output_name`'s.
"""
import json
import os
import os.path as osp
from typing import List, Optional

import numpy as np

from .inference import (
    decided_mask,
    output_name,
    paste_into,
    render,
    write_mask,
    write_picture,
    write_probability_map,
)
from .inferencer_results import ForgeryPrediction, VideoPrediction

#: JSON key -> folder of each image's (or frame's) output files
PREDICTION_FOLDERS = dict(overlay='overlays', heatmap='heatmaps', mask='masks',
                          probability_map='probability_maps')
#: the JSON-lines file of a run
PREDICTIONS_FILE = 'predictions.jsonl'
#: the model of a run (config, checkpoint, what it was trained on)
MODEL_FILE = 'model.json'


class PredictionFiles:
    """Writes predictions into ``out_dir``: its four folders and ``predictions.jsonl``
    (made, or emptied, when it is created), a line flushed as soon as it is written.

    Use it as a context manager, or call :meth:`close`.

    Args:
        out_dir (str): The output folder (made if missing).
        threshold (float): The decision's threshold, drawn on the overlays and used for a
            video's decision. Defaults to 0.5.
        model_card (dict, optional): The model's card, written to ``model.json``.
            Defaults to None (no ``model.json``).
    """

    def __init__(self, out_dir: str, *, threshold: float = 0.5,
                 model_card: Optional[dict] = None) -> None:
        self.out_dir = out_dir
        self.threshold = threshold
        for sub in PREDICTION_FOLDERS.values():
            os.makedirs(osp.join(out_dir, sub), exist_ok=True)
        if model_card is not None:
            self._write_model(model_card)
        self._lines = open(osp.join(out_dir, PREDICTIONS_FILE), 'w')

    def _write_model(self, model_card: dict) -> None:
        with open(osp.join(self.out_dir, MODEL_FILE), 'w') as f:
            json.dump(model_card, f, indent=2, allow_nan=False)
            f.write('\n')

    def __enter__(self) -> 'PredictionFiles':
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Close ``predictions.jsonl``."""
        self._lines.close()

    def add_image(self, path: str, image: np.ndarray, pred: ForgeryPrediction) -> dict:
        """An image's four pictures and its line.

        Args:
            path (str): The input, as the line names it (the file names use its base name).
            image (np.ndarray): The BGR picture the prediction was made on.
            pred (ForgeryPrediction): The prediction.

        Returns:
            dict: The line written: ``input``, the four files (relative to ``out_dir``),
            ``fake_probability``, ``is_fake``, ``forged_area`` and ``face_box``.
        """
        record = dict(input=path, **self._pictures(output_name(path), image, pred))
        self._write(record)
        return record

    def add_video(self, path: str, frames: List[ForgeryPrediction]) -> VideoPrediction:
        """A video's frames (their pictures and lines, each frame's picture taken from
        ``pred.info['frame_image']``), then the video's line with its score and curve.

        Args:
            path (str): The video, as the lines name it.
            frames (list[ForgeryPrediction]): Its frames' predictions, in frame order
                (``info['frame']`` the frame's index).

        Returns:
            VideoPrediction: The video's score (the mean of its frames') and decision.
        """
        for pred in frames:
            frame = pred.info['frame']
            self._write(dict(input=path, frame=frame,
                             **self._pictures(output_name(path, frame),
                                              pred.info['frame_image'], pred)))
        video = VideoPrediction.from_frames(path, frames, self.threshold)
        self._write(dict(input=path, video=True, frames=len(frames),
                         fake_probability=round(video.fake_probability, 6),
                         is_fake=video.is_fake,
                         curve=[dict(frame=f, fake_probability=round(p, 6))
                                for f, p in video.frame_scores]))
        return video

    def add_error(self, path: str, message: str) -> None:
        """The line of an input that could not be scored.

        Args:
            path (str): The input.
            message (str): Why, on one line.
        """
        self._write(dict(input=path, error=message))

    def _pictures(self, name: str, image: np.ndarray, pred: ForgeryPrediction) -> dict:
        overlay, heat = render(image, pred, self.threshold)
        prob = paste_into(image.shape, pred)  # the face's map placed in the picture
        files = {key: osp.join(sub, f'{name}.png') for key, sub in PREDICTION_FOLDERS.items()}
        write_picture(osp.join(self.out_dir, files['overlay']), overlay)
        write_picture(osp.join(self.out_dir, files['heatmap']), heat)
        write_mask(osp.join(self.out_dir, files['mask']), decided_mask(prob, pred.is_fake))
        write_probability_map(osp.join(self.out_dir, files['probability_map']), prob)
        return dict(**files, fake_probability=round(pred.fake_probability, 6),
                    is_fake=pred.is_fake, forged_area=round(pred.forged_area, 6),
                    face_box=list(pred.face_box) if pred.face_box else None)

    def _write(self, record: dict) -> None:
        self._lines.write(json.dumps(record, allow_nan=False) + '\n')  # strict JSON
        self._lines.flush()

