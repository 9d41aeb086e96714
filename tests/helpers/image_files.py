"""Image files the inference input tests feed the tools: a valid JPEG cut short, and a small
PNG whose header declares a huge picture."""
import struct
import zlib
from pathlib import Path

import cv2

from tests.helpers.inference_cases import face_like


def truncated_jpeg(path: Path, height: int = 96, width: int = 96) -> Path:
    """A JPEG of :func:`face_like` cut to half its bytes (a download stopped midway)."""
    ok, encoded = cv2.imencode('.jpg', face_like(height, width, seed=7))
    assert ok
    data = encoded.tobytes()
    path.write_bytes(data[:len(data) // 2])
    return path


def _chunk(kind: bytes, body: bytes) -> bytes:
    return (struct.pack('>I', len(body)) + kind + body
            + struct.pack('>I', zlib.crc32(kind + body) & 0xFFFFFFFF))


def huge_png(path: Path, side: int = 10000) -> Path:
    """A complete, valid grey PNG of ``side`` x ``side`` black pixels (10000: 100 million
    pixels in about 100 KB), written row by row without holding the picture."""
    packer = zlib.compressobj(9)
    row = b'\x00' * (side + 1)  # filter byte 0 and one byte per pixel
    parts = [packer.compress(row) for _ in range(side)]
    parts.append(packer.flush())
    header = struct.pack('>IIBBBBB', side, side, 8, 0, 0, 0, 0)  # 8-bit grey
    path.write_bytes(b'\x89PNG\r\n\x1a\n' + _chunk(b'IHDR', header)
                     + _chunk(b'IDAT', b''.join(parts)) + _chunk(b'IEND', b''))
    return path


def drifting_face_video(path: Path, frames: int = 6) -> Path:
    """An mp4 of scikit-image's astronaut (her face about 45 px wide at 256x256), drifting
    right 3 px each frame: a face the detector and the tracker find."""
    import numpy as np
    from skimage import data
    astronaut = data.astronaut()[..., ::-1]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 10, (256, 256))
    for k in range(frames):
        writer.write(cv2.resize(np.ascontiguousarray(np.roll(astronaut, 3 * k, axis=1)),
                                (256, 256)))
    writer.release()
    return Path(path)
