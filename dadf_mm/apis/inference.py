"""Forgery inference on images, folders and videos (what ``tools/infer.py`` runs).

Images are taken as face crops unless ``detect_faces`` is set; video frames always go
through the face detector and tracker the dataset converters use, so a video is cropped
the way the training data was.
"""
import os.path as osp
from dataclasses import dataclass, field
from typing import Iterable, List, Optional, Sequence, Union

import cv2
import numpy as np
import torch
from mmcv.transforms import Compose
from mmengine.config import Config

from ..engine import check_checkpoint_fits
from ..preprocessing import (
    FaceTracker,
    build_face_detector,
    crop_square,
    sample_frames,
    square_box,
    track_faces,
)
from .config_checks import apply_cfg_options


@dataclass
class ForgeryPrediction:
    """One face: fake probability, binary mask and per-pixel probability at the input's
    size, and where in the original picture the face was (``box`` = x1, y1, side)."""

    name: str
    fake_probability: float
    mask: np.ndarray
    probability_map: np.ndarray
    box: Optional[tuple] = None
    info: dict = field(default_factory=dict)

    @property
    def forged_area(self) -> float:
        return float(self.mask.mean()) if self.mask.size else 0.0


class ForgeryInferencer:
    """A DADF model from a config and checkpoint, ready for numpy BGR images.

    Args:
        config: config path or :class:`Config`.
        checkpoint: a trained DADF checkpoint (``None`` keeps the config's own weights).
        device: ``'cpu'``, ``'cuda'``, ``'cuda:1'`` ...
        threshold: the fake-probability threshold of the decision.
        batch_size: faces per forward pass.
        cfg_options: ``--cfg-options``, checked as the other tools check them.
        allow_partial_checkpoint: load a checkpoint that lacks some of the model's weights.
        allow_new_keys: let ``cfg_options`` add keys nothing reads.

    Raises:
        CheckpointFileError: the checkpoint is unreadable or holds another model's weights.
    """

    def __init__(self, config: Union[str, Config], checkpoint: Optional[str] = None, *,
                 device: str = 'cpu', threshold: float = 0.5, batch_size: int = 4,
                 cfg_options: Optional[dict] = None, allow_partial_checkpoint: bool = False,
                 allow_new_keys: bool = False) -> None:
        from mmengine.runner import load_checkpoint
        from mmseg.apis import init_model
        from mmseg.utils import register_all_modules
        register_all_modules(init_default_scope=True)
        cfg = Config.fromfile(config) if isinstance(config, str) else config
        apply_cfg_options(cfg, cfg_options or {}, allow_new_keys)
        cfg.model.sam_checkpoint = None  # the trained checkpoint holds SAM's weights
        self.model = init_model(cfg, None, device=device)
        if checkpoint is not None:
            # mmengine loads non-strictly and mmseg then needs a 'meta' entry: refuse a
            # file of another model (a SAM checkpoint ...) with what it is instead
            check_checkpoint_fits(self.model, checkpoint, allow_partial=allow_partial_checkpoint)
            loaded = load_checkpoint(self.model, checkpoint, map_location='cpu')
            meta = loaded.get('meta', {}) if isinstance(loaded, dict) else {}
            if meta.get('dataset_meta'):
                self.model.dataset_meta = meta['dataset_meta']
        self.device = device
        self.threshold = threshold
        self.batch_size = batch_size
        size = tuple(cfg.model.data_preprocessor.get('size') or (1024, 1024))
        self.input_size = size
        self.pipeline = Compose([
            dict(type='Resize', scale=(size[1], size[0]), keep_ratio=False),
            dict(type='PackSegInputs'),
        ])

    @torch.no_grad()
    def predict(self, images: Sequence[np.ndarray], names: Sequence[str]
                ) -> List[ForgeryPrediction]:
        """Predict face crops (BGR uint8); ``names`` seed the noisy view per image."""
        out: List[ForgeryPrediction] = []
        for start in range(0, len(images), self.batch_size):
            chunk = list(zip(images[start:start + self.batch_size],
                             names[start:start + self.batch_size]))
            batch = [self.pipeline(dict(img=img, img_path=name, img_shape=img.shape[:2],
                                        ori_shape=img.shape[:2])) for img, name in chunk]
            data = dict(inputs=[b['inputs'] for b in batch],
                        data_samples=[b['data_samples'] for b in batch])
            for (img, name), result in zip(chunk, self.model.test_step(data)):
                prob = result.seg_logits.data[0].float().cpu().numpy()
                out.append(ForgeryPrediction(
                    name=name, fake_probability=float(result.pred_score),
                    mask=result.pred_sem_seg.data[0].cpu().numpy().astype(np.uint8),
                    probability_map=prob))
        return out

    def predict_image(self, image: np.ndarray, name: str, *, detect_faces: bool = False,
                      detector=None, margin: float = 1.3) -> ForgeryPrediction:
        """One image; with ``detect_faces`` its largest face is cropped first."""
        if not detect_faces:
            return self.predict([image], [name])[0]
        detector = detector or build_face_detector()
        faces = detector(image)
        if not faces:
            raise ValueError(f'no face found in {name}; pass it as a face crop '
                             '(without --detect-faces) or use a stronger --detector')
        face = max(faces, key=lambda d: d.area)
        cx, cy = face.center
        box = square_box(cx, cy, max(face.width, face.height), margin=margin)
        pred = self.predict([crop_square(image, box)], [name])[0]
        pred.box = box
        return pred

    def predict_video(self, path: str, *, num_frames: int = 32, detector=None,
                      margin: float = 1.3) -> List[ForgeryPrediction]:
        """``num_frames`` evenly spaced frames of a video, each cropped to the tracked face.

        Frames where no face was ever found raise ``ValueError`` naming the video."""
        sampled = sample_frames(path, num_frames)
        detector = detector or build_face_detector()
        tracked = track_faces([detector(frame) for frame in sampled.frames], FaceTracker())
        if all(face is None for face in tracked):
            raise ValueError(f'no face found in any sampled frame of {path}')
        crops, names, boxes = [], [], []
        for index, frame, face in zip(sampled.indices, sampled.frames, tracked):
            box = square_box(face.center_x, face.center_y, face.size, margin=margin)
            crops.append(crop_square(frame, box))
            names.append(f'{path}#frame{index:06d}')
            boxes.append(box)
        preds = self.predict(crops, names)
        for pred, box, index, frame in zip(preds, boxes, sampled.indices, sampled.frames):
            pred.box = box
            pred.info = dict(frame=index, frame_image=frame)
        return preds


def paste_into(frame_shape: tuple, pred: ForgeryPrediction) -> np.ndarray:
    """The face's probability map placed back into a zero map of the whole frame."""
    full = np.zeros(frame_shape[:2], dtype=np.float32)
    if pred.box is None:
        return cv2.resize(pred.probability_map, (frame_shape[1], frame_shape[0]))
    x1, y1, side = pred.box
    face = cv2.resize(pred.probability_map, (side, side), interpolation=cv2.INTER_LINEAR)
    h, w = frame_shape[:2]
    sx1, sy1, sx2, sy2 = max(x1, 0), max(y1, 0), min(x1 + side, w), min(y1 + side, h)
    if sx2 > sx1 and sy2 > sy1:
        full[sy1:sy2, sx1:sx2] = face[sy1 - y1:sy2 - y1, sx1 - x1:sx2 - x1]
    return full


def render(image: np.ndarray, pred: ForgeryPrediction, threshold: float = 0.5):
    """(overlay, heat map) pictures of a prediction on the full image."""
    prob = paste_into(image.shape, pred)
    mask = prob > 0.5
    overlay = image.copy()
    red = np.zeros_like(image)
    red[..., 2] = 255
    overlay[mask] = (0.5 * image[mask] + 0.5 * red[mask]).astype(np.uint8)
    if pred.box is not None:
        x1, y1, side = pred.box
        colour = (0, 0, 255) if pred.fake_probability > threshold else (0, 200, 0)
        cv2.rectangle(overlay, (x1, y1), (x1 + side, y1 + side), colour, 2)
    label = f'{"FAKE" if pred.fake_probability > threshold else "real"} ' \
            f'{pred.fake_probability:.2f}'
    cv2.putText(overlay, label, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 2)
    cv2.putText(overlay, label, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1)
    heat = cv2.applyColorMap(np.clip(prob * 255, 0, 255).astype(np.uint8), cv2.COLORMAP_JET)
    heat = cv2.addWeighted(image, 0.4, heat, 0.6, 0)
    return overlay, heat


IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.webp', '.tif', '.tiff')
VIDEO_SUFFIXES = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v')


def output_name(path: str, frame: Optional[int] = None) -> str:
    """The name of an input's pictures (without ``.png``): the file name with its extension,
    so ``dup.png`` and ``dup.jpg`` (one folder) never share one; a video frame adds
    ``.frame<N>`` (``clip.mp4.frame000012``), which no image's name ends with."""
    name = osp.basename(path)
    return name if frame is None else f'{name}.frame{frame:06d}'


def list_inputs(path: str) -> Iterable[str]:
    """An image, a video, or a folder of them (sorted)."""
    if osp.isdir(path):
        import os
        names = sorted(os.listdir(path))
        return [osp.join(path, n) for n in names
                if n.lower().endswith(IMAGE_SUFFIXES + VIDEO_SUFFIXES)]
    if not osp.exists(path):
        raise FileNotFoundError(f'input {path} does not exist')
    return [path]
