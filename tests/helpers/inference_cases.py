"""What the inference tests feed the demo model: its config and images of any size."""
import os.path as osp

import numpy as np

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DEMO = osp.join(ROOT, 'configs', 'dadf', 'dadf_sam-tiny_synthetic-demo.py')
#: (height, width) of the inputs every inference path must take
SIZES = [(64, 64), (128, 128), (512, 512), (333, 777)]


def face_like(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A BGR uint8 picture with structure at every scale (smooth gradients, a disc, noise)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    disc = ((yy - height / 2) ** 2 / (height / 3) ** 2
            + (xx - width / 2) ** 2 / (width / 3) ** 2) < 1
    img = np.stack([xx / width * 200, yy / height * 200, 120 + 80 * disc], axis=-1)
    img += rng.normal(0, 12, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)
