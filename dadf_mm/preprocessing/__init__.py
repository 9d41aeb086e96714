"""Turning videos into face crops: frame sampling, face detection and tracking, cropping.

The dataset converters in ``tools/dataset_converters`` are thin wrappers around
:mod:`.conversion_runner`.
"""
from .face_crop import crop_square, square_box
from .face_detector import (
    DEFAULT_DETECTOR,
    CenterFaceDetector,
    FaceDetection,
    HaarFaceDetector,
    build_face_detector,
    detector_version,
)
from .face_tracker import FaceTracker, TrackedFace, box_iou, track_faces
from .frame_sampler import (
    FrameReadError,
    SampledFrames,
    evenly_spaced_indices,
    read_frames,
    sample_frames,
)
from .video_conversion import (
    ConversionOptions,
    VideoJob,
    VideoResult,
    completion,
    convert_video,
    is_complete,
)

__all__ = [
    'crop_square', 'square_box', 'FaceDetection', 'HaarFaceDetector', 'build_face_detector',
    'CenterFaceDetector', 'DEFAULT_DETECTOR', 'detector_version',
    'FaceTracker', 'TrackedFace', 'box_iou', 'track_faces', 'FrameReadError', 'SampledFrames',
    'evenly_spaced_indices', 'read_frames', 'sample_frames', 'ConversionOptions', 'VideoJob',
    'VideoResult', 'completion', 'convert_video', 'is_complete'
]
