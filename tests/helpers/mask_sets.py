"""Small forgery datasets written to a folder: fakes with given masks, for the tests of the
constant disc and its hook."""
from typing import Dict, Optional

import cv2
import numpy as np

from dadf_mm.datasets import write_annotations

#: the size of every image of :func:`write_mask_set`
HEIGHT, WIDTH = 10, 20


def box(top: int, bottom: int, left: int, right: int) -> np.ndarray:
    """A HEIGHT x WIDTH 0/1 mask with ones at rows top..bottom-1, columns left..right-1."""
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    mask[top:bottom, left:right] = 1
    return mask


# 4 x 4 pixels at rows 0-3, columns 0-3: area 16/200, centroid (2/20, 2/10)
SMALL = box(0, 4, 0, 4)
# 6 x 6 pixels at rows 4-9, columns 10-15: area 36/200, centroid (13/20, 7/10)
LARGE = box(4, 10, 10, 16)
#: the disc of SMALL and LARGE: mean area and mean centroid, in fractions
SMALL_LARGE_DISC = dict(center_x=(0.1 + 0.65) / 2, center_y=(0.2 + 0.7) / 2,
                        area=(16 / 200 + 36 / 200) / 2, num_masks=2)


def write_mask_set(root, masks: Dict[str, Optional[np.ndarray]]) -> str:
    """HEIGHT x WIDTH images in ``root``: a real one, and a fake per entry of ``masks``
    (name -> 0/1 mask, written as 0/255, or None for a fake without a mask file).

    Returns:
        str: The annotation list, ``list.jsonl`` in ``root``.
    """
    root.mkdir(parents=True, exist_ok=True)
    records = [dict(img_path='real.png', label=0)]
    cv2.imwrite(str(root / 'real.png'), np.zeros((HEIGHT, WIDTH, 3), np.uint8))
    for name, mask in masks.items():
        cv2.imwrite(str(root / f'{name}.png'), np.full((HEIGHT, WIDTH, 3), 90, np.uint8))
        record = dict(img_path=f'{name}.png', label=1, method='m')
        if mask is not None:
            cv2.imwrite(str(root / f'{name}_mask.png'), (mask * 255).astype(np.uint8))
            record['mask_path'] = f'{name}_mask.png'
        records.append(record)
    write_annotations(str(root / 'list.jsonl'), records)
    return str(root / 'list.jsonl')
