"""One video to face crops: sample frames, detect and track the face, crop frame and mask.

Output of a job, under the converter's output root::

    <group>/<method>/<video_id>/images/<frame:04d>.png   face crop (BGR PNG)
    <group>/<method>/<video_id>/masks/<frame:04d>.png    same crop of the mask, 0 / 255
    <group>/<method>/<video_id>/video.json               frame numbers, boxes, counts

With ``--faces all`` (:data:`~.face_tracker.FACE_CHOICES`) each person kept has its own
crops, ``<frame:04d>_p<k>.png`` (``k`` = 0 for the most frequent person, then by
frequency), and every frame of ``video.json`` names its ``person``.

``group`` is the compression (``c23``) or quality (``higher_quality``); ``<frame>`` is
the frame's number in the source video. Real videos have no ``masks/`` folder (their
masks are all zero). A mask frame is binarised as ``gray > mask_threshold`` (default
127, the midpoint of 8-bit grey) before cropping, so compression noise in the mask
videos does not leak in.

The video is written to ``<group>/<method>/.<video_id>.partial`` and renamed when every
frame is written: an interrupted video is redone. A video folder is complete when its
``video.json`` records the options of this run (:func:`completion`); one converted with
other options (``--num-frames``, ``--size``, ...) or with/without masks is redone, and its
old folder is only removed once the new one is in place.
"""
import json
import os
import os.path as osp
import shutil
from dataclasses import asdict, dataclass, field
from typing import List, Optional

import cv2
import numpy as np

from .face_crop import crop_aligned, face_angles, square_box
from .face_detector import FaceDetector, detector_version
from .face_tracker import FACE_CHOICES, FaceTracker, TrackedFace, track_people
from .frame_sampler import FrameReadError, SampledFrames, read_frames, sample_frames

VIDEO_META = 'video.json'


@dataclass(frozen=True)
class VideoJob:
    """One source video and where its crops go.

    Attributes:
        source (str): The video file (or frame folder).
        method (str): The manipulation method, e.g. ``'Deepfakes'``; ``'original'`` for a
            real video.
        video_id (str): The video's id, e.g. ``'071_054'``.
        label (int): 0 real, 1 fake.
        group (str): The output group, e.g. the compression ``'c23'``.
        mask_source (str, optional): The mask video of a fake; None for none.
            Defaults to None.
    """

    source: str
    method: str
    video_id: str
    label: int
    group: str
    mask_source: Optional[str] = None

    def output_dir(self, root: str) -> str:
        """The video's output folder.

        Args:
            root (str): The converter's output root.

        Returns:
            str: ``<root>/<group>/<method>/<video_id>``.
        """
        return osp.join(root, self.group, self.method, self.video_id)


@dataclass(frozen=True)
class ConversionOptions:
    """What every video of a run shares.

    Args:
        num_frames (int): evenly spaced frames per video. Defaults to 32.
        margin (float): crop side as a multiple of the tracked face side. Defaults to 1.3.
        size (int, optional): resize every crop to ``size`` x ``size``; ``None`` keeps its
            own size. Defaults to None.
        mask_threshold (int): a mask pixel is forged when its grey value exceeds this.
            Defaults to 127.
        detector (str): the face detector's spec (``'centerface'``, ``'haar'`` or
            ``'package.module:factory'``). Defaults to 'centerface'.
        align (bool): turn each crop about the face so that the eyes are level (from the
            detector's landmarks; a frame without them keeps the nearest frame's turn).
            FF++ and the DADF paper crop unaligned. Defaults to False.
        detector_version (str, optional): the detector's package and version, so that an
            upgrade redoes the videos; None: the installed one
            (:func:`~.face_detector.detector_version`). Defaults to None.
        faces (str): which people of a video are cropped: ``'frequent'``, ``'largest'``
            or ``'all'`` (:mod:`.face_tracker`). Videos converted before the option
            existed read as ``'frequent'``. Defaults to 'frequent'.
    """

    num_frames: int = 32
    margin: float = 1.3
    size: Optional[int] = None
    mask_threshold: int = 127
    detector: str = 'centerface'
    align: bool = False
    detector_version: Optional[str] = None
    faces: str = 'frequent'

    def __post_init__(self) -> None:
        if self.faces not in FACE_CHOICES:
            raise ValueError(f'faces must be one of {", ".join(FACE_CHOICES)}, '
                             f'got {self.faces!r}')
        if self.detector_version is None:
            object.__setattr__(self, 'detector_version', detector_version(self.detector))


@dataclass
class VideoResult:
    """What happened to one job: ``status`` is 'done', 'skipped' or 'failed'.

    Attributes:
        job (VideoJob): The job.
        status (str): ``'done'``, ``'skipped'`` or ``'failed'``.
        reason (str): Why it failed. Defaults to ''.
        frames (int): The frames written. Defaults to 0.
        extra (dict): ``held_frames`` (how many frames had no face of the tracked person,
            so their box was held), ``frames_without_face`` (those frames' numbers) and
            ``redone`` (why an earlier output was replaced). Defaults to an empty dict.
    """

    job: VideoJob
    status: str
    reason: str = ''
    frames: int = 0
    extra: dict = field(default_factory=dict)


NOT_CONVERTED = 'not converted yet'


def completion(job: VideoJob, root: str, options: Optional[ConversionOptions] = None
               ) -> Optional[str]:
    """Why ``job`` must be (re)converted, or None when its output is complete.

    Args:
        job (VideoJob): the video.
        root (str): the converter's output root.
        options (ConversionOptions, optional): this run's options; a video converted with
            other options, or with masks where the job has none (or the reverse), is not
            complete. None: any complete output counts. Defaults to None.

    Returns:
        str | None: :data:`NOT_CONVERTED`, ``'video.json unreadable (...)'``,
        ``'converted with other options: num_frames 32 -> 8, ...'``, ... or None.
    """
    path = osp.join(job.output_dir(root), VIDEO_META)
    if not osp.isfile(path):
        return NOT_CONVERTED
    try:
        with open(path) as f:
            meta = json.load(f)
        # a field that older runs did not record had its default value then
        before = {**asdict(ConversionOptions()), 'detector': 'haar', 'detector_version': '',
                  **meta['options']}
        had_masks = meta.get('mask_source') is not None
    except (OSError, ValueError, KeyError, TypeError) as err:
        return f'video.json unreadable ({type(err).__name__}: {err})'
    if options is None:
        return None
    changed = [f'{key} {before[key]!r} -> {value!r}' for key, value in asdict(options).items()
               if before[key] != value]
    if had_masks != (job.mask_source is not None):
        changed.append('masks ' + ('with -> without' if had_masks else 'without -> with'))
    return f'converted with other options: {", ".join(changed)}' if changed else None


def is_complete(job: VideoJob, root: str, options: Optional[ConversionOptions] = None) -> bool:
    """Whether ``job``'s output exists (and, given ``options``, was made with them).

    Args:
        job (VideoJob): The video.
        root (str): The converter's output root.
        options (ConversionOptions, optional): This run's options; None: any complete
            output counts. Defaults to None.

    Returns:
        bool: True when :func:`completion` finds nothing to redo.
    """
    return completion(job, root, options) is None


def _fail(job: VideoJob, reason: str) -> VideoResult:
    return VideoResult(job, 'failed', reason)


def convert_video(job: VideoJob, root: str, options: ConversionOptions,
                  detector: FaceDetector) -> VideoResult:
    """Converts one video unless its output is already complete.

    Args:
        job (VideoJob): The video.
        root (str): The converter's output root.
        options (ConversionOptions): This run's options.
        detector (FaceDetector): The face detector.

    Returns:
        VideoResult: ``'skipped'`` (complete with these options), ``'failed'`` with the
        reason (unreadable video or mask, mismatched mask, no face), or ``'done'``.
    """
    out_dir = job.output_dir(root)
    why = completion(job, root, options)
    if why is None:
        return VideoResult(job, 'skipped')
    try:
        video = sample_frames(job.source, options.num_frames)
    except FrameReadError as err:
        return _fail(job, str(err))
    masks: List[np.ndarray] = []
    if job.mask_source is not None:
        if not osp.exists(job.mask_source):
            return _fail(job, f'mask video missing: {job.mask_source}')
        try:
            mask_video = read_frames(job.mask_source, video.indices)
        except FrameReadError as err:
            return _fail(job, f'unreadable mask video: {err}')
        if mask_video.total != video.total:
            return _fail(job, f'mask/video frame-count mismatch: {video.total} frames in '
                         f'{job.source}, {mask_video.total} in {job.mask_source}')
        masks = mask_video.frames
        shapes = {f.shape[:2] for f in video.frames} | {m.shape[:2] for m in masks}
        if len(shapes) != 1:
            return _fail(job, f'mask/video size mismatch: {sorted(shapes)} between '
                         f'{job.source} and {job.mask_source}')

    people = track_people([detector(frame) for frame in video.frames], options.faces,
                          FaceTracker())
    if not people:
        return _fail(job, f'no face found: none in the {len(video.frames)} sampled frames '
                     f'of {job.source}')

    partial = osp.join(osp.dirname(out_dir), f'.{job.video_id}.partial')
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(osp.join(partial, 'images'))
    if masks:
        os.makedirs(osp.join(partial, 'masks'))
    records = []
    for person, faces in enumerate(people):
        suffix = f'_p{person}' if options.faces == 'all' else ''
        records += _write_crops(partial, video, masks, faces, options, person, suffix)
    records.sort(key=lambda r: (r['frame'], r['person']))
    meta = dict(source=job.source, mask_source=job.mask_source, method=job.method,
                video_id=job.video_id, label=job.label, total_frames=video.total,
                has_masks=bool(masks), options=asdict(options), frames=records)
    with open(osp.join(partial, VIDEO_META), 'w') as f:
        json.dump(meta, f, indent=1)
    _replace_folder(partial, out_dir)
    without_face = sorted({r['frame'] for r in records if not r['detected']})
    extra = dict(held_frames=sum(not r['detected'] for r in records),
                 frames_without_face=without_face)
    if why != NOT_CONVERTED:
        extra['redone'] = why
    return VideoResult(job, 'done', frames=len(records), extra=extra)


def _write_crops(folder: str, video: SampledFrames, masks: List[np.ndarray],
                 faces: List[TrackedFace], options: ConversionOptions, person: int,
                 suffix: str) -> List[dict]:
    """Writes one person's crop (and mask crop) of every sampled frame into ``folder``;
    returns their ``video.json`` frame records."""
    records = []
    angles = (face_angles([face.landmarks for face in faces]) if options.align
              else [0.0] * len(faces))
    for k, (index, frame, face) in enumerate(zip(video.indices, video.frames, faces)):
        box = square_box(face.center_x, face.center_y, face.size, margin=options.margin)
        name = f'{index:04d}{suffix}.png'
        _write_png(osp.join(folder, 'images', name),
                   crop_aligned(frame, box, angles[k], out_size=options.size))
        if masks:
            gray = masks[k] if masks[k].ndim == 2 else cv2.cvtColor(masks[k], cv2.COLOR_BGR2GRAY)
            binary = np.where(gray > options.mask_threshold, 255, 0).astype(np.uint8)
            _write_png(osp.join(folder, 'masks', name),
                       crop_aligned(binary, box, angles[k], out_size=options.size,
                                    is_mask=True))
        landmarks = [list(point) for point in face.landmarks] if face.landmarks else None
        records.append(dict(frame=index, file=name, person=person, box=list(box),
                            detected=face.detected, landmarks=landmarks,
                            angle=round(angles[k], 2)))
    return records


def _replace_folder(new: str, out_dir: str) -> None:
    """Puts ``new`` at ``out_dir``; an old folder there is moved aside first and removed
    last, so an interruption leaves either folder (or the old one aside and the video to
    redo), never a half-written one at ``out_dir``."""
    old = None
    if osp.exists(out_dir):
        old = osp.join(osp.dirname(out_dir), f'.{osp.basename(out_dir)}.old')
        shutil.rmtree(old, ignore_errors=True)
        os.replace(out_dir, old)
    os.replace(new, out_dir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _write_png(path: str, image: np.ndarray) -> None:
    if not cv2.imwrite(path, image):
        raise OSError(f'could not write {path}')


def read_video_meta(job: VideoJob, root: str) -> dict:
    """The ``video.json`` of a converted video.

    Args:
        job (VideoJob): The video.
        root (str): The converter's output root.

    Returns:
        dict: Its source, method, video id, label, frame count, ``has_masks``, the options
        and ``frames`` (per written frame: number, file, box, ``detected``, ``person``
        (0 unless ``--faces all``) and the five ``landmarks`` [x, y] in frame pixels,
        null where the box was held or the detector gives none).
    """
    with open(osp.join(job.output_dir(root), VIDEO_META)) as f:
        return json.load(f)
