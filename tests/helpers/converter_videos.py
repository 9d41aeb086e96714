"""Small videos and frame folders in a dataset's own layout, for the converter tests:
a face that drifts a little each frame, its forged copy and mask, written by OpenCV or
as H.264 by the ``imageio-ffmpeg`` wheel's ffmpeg."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
from skimage import data

TOOLS = Path(__file__).resolve().parents[2] / 'tools' / 'dataset_converters'
if str(TOOLS) not in sys.path:  # the converters import converter_setup from their folder
    sys.path.append(str(TOOLS))
FRAMES, SIZE = 12, 160
PATCH = (slice(95, 125), slice(45, 75))  # rows, columns of the forged region in a frame
GREEN = (0, 255, 0)


def load_tool(name):
    spec = importlib.util.spec_from_file_location(f'converter_{name}', TOOLS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def face_frame(k):
    """Frame k: the astronaut's face (about 80 px wide), drifting a little each frame."""
    astronaut = data.astronaut()[..., ::-1]
    x0, y0 = 124 + 2 * k, 15 + k
    return cv2.resize(astronaut[y0:y0 + 200, x0:x0 + 200], (SIZE, SIZE),
                      interpolation=cv2.INTER_AREA)


def write_video(path, frames, fourcc='mp4v'):
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 25, (SIZE, SIZE))
    assert writer.isOpened(), f'OpenCV cannot write {fourcc} videos'
    for frame in frames:
        writer.write(np.ascontiguousarray(frame))
    writer.release()


def real_frames(n=FRAMES):
    return [face_frame(k) for k in range(n)]


def fake_frames(n=FRAMES):
    frames = real_frames(n)
    for frame in frames:
        frame[PATCH] = GREEN
    return frames


def mask_frames(n=FRAMES):
    frames = [np.zeros((SIZE, SIZE, 3), np.uint8) for _ in range(n)]
    for frame in frames:
        frame[PATCH] = 255
    return frames


def read_jsonl(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines()]


def ffmpeg():
    import imageio_ffmpeg  # a test dependency: tools/setup_env.sh installs it
    return imageio_ffmpeg.get_ffmpeg_exe()


def write_h264(path, frames, crf, *options):
    """Encodes BGR frames with libx264 at ``crf`` (FF++: c23 = 23, c40 = 40), 25 fps."""
    path.parent.mkdir(parents=True, exist_ok=True)
    command = [ffmpeg(), '-y', '-loglevel', 'error', '-f', 'rawvideo', '-pix_fmt', 'bgr24',
               '-s', f'{SIZE}x{SIZE}', '-r', '25', '-i', '-', '-c:v', 'libx264', '-preset',
               'ultrafast', '-crf', str(crf), '-pix_fmt', 'yuv420p', *options, str(path)]
    data = b''.join(np.ascontiguousarray(f).tobytes() for f in frames)
    subprocess.run(command, input=data, check=True)
