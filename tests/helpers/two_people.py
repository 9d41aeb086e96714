"""A small video with two people: the astronaut's face, large on the left (hidden in the
first frames), and a smaller copy on the right, seen in every frame."""
import cv2
import numpy as np
from skimage import data

WIDTH, HEIGHT = 224, 160
LARGE, SMALL = 96, 56  # face image sides in pixels
LARGE_LEFT, SMALL_LEFT = 8, 150  # their left edges
HIDDEN = 3  # the large face is covered in frames 0, 1, 2


def two_people_frame(k):
    """Frame k: the large face from frame HIDDEN on, the small one always."""
    astronaut = data.astronaut()[..., ::-1]
    face = astronaut[15 + k:215 + k, 124 + 2 * k:324 + 2 * k]
    frame = np.full((HEIGHT, WIDTH, 3), 120, np.uint8)
    if k >= HIDDEN:
        frame[20:20 + LARGE, LARGE_LEFT:LARGE_LEFT + LARGE] = cv2.resize(
            face, (LARGE, LARGE), interpolation=cv2.INTER_AREA)
    frame[40:40 + SMALL, SMALL_LEFT:SMALL_LEFT + SMALL] = cv2.resize(
        face, (SMALL, SMALL), interpolation=cv2.INTER_AREA)
    return frame


def write_two_people_video(path, frames=12):
    """Writes the video (mp4v, 25 fps) and returns its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 25, (WIDTH, HEIGHT))
    assert writer.isOpened()
    for k in range(frames):
        writer.write(np.ascontiguousarray(two_people_frame(k)))
    writer.release()
    return path


def side(center_x):
    """'large' for a crop centred on the left face, 'small' for the right one."""
    return 'large' if center_x < WIDTH / 2 else 'small'
