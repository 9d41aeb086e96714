"""An inferencer's inputs through the config's test pipeline: a path loaded by the
config's image loader, an array or a ``dict(img=, img_path=)`` taken as loaded, and a
name from its content for an image without one."""
import hashlib
from typing import Sequence, Union

import numpy as np
from mmcv.transforms import Compose
from mmseg.registry import TRANSFORMS

from .image_files import DEFAULT_MAX_MEGAPIXELS, check_pixel_limit

IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.webp', '.tif', '.tiff')
ANNOTATION_LOADERS = ('LoadAnnotations', 'LoadForgeryAnnotations', 'LoadDepthAnnotation')
InputType = Union[str, np.ndarray, dict]


def array_name(image: np.ndarray) -> str:
    """A name for an unnamed image, from its content: the noisy view is seeded by name, so
    an image gets the same prediction whatever batch it comes in.

    Args:
        image (np.ndarray): the image.

    Returns:
        str: ``'array:<16 hex digits of its SHA-1>'``.
    """
    return f'array:{hashlib.sha1(np.ascontiguousarray(image).tobytes()).hexdigest()[:16]}'


class InputPipeline:
    """The config's test pipeline for an inferencer's inputs: a path is loaded by the
    config's image loader, an array (BGR, as OpenCV reads it) or a ``dict(img=..., img_path=
    name)`` is taken as loaded; annotation loaders are left out.

    Args:
        pipeline (Sequence[dict]): the config's test pipeline, its loader first.
        max_megapixels (float): a path whose image is larger is refused before it is
            decoded (:func:`~dadf_mm.apis.image_files.check_pixel_limit`). Defaults to
            :data:`~dadf_mm.apis.image_files.DEFAULT_MAX_MEGAPIXELS`.
    """

    def __init__(self, pipeline: Sequence[dict], *,
                 max_megapixels: float = DEFAULT_MAX_MEGAPIXELS) -> None:
        self.max_megapixels = max_megapixels
        steps = [dict(t) for t in pipeline if t.get('type') not in ANNOTATION_LOADERS]
        if not steps or 'Load' not in str(steps[0].get('type')):
            raise ValueError('the test pipeline must start with an image loader '
                             "(dict(type='LoadForgeryImage')); fix test_dataloader.dataset."
                             'pipeline in the config')
        self.load = TRANSFORMS.build(steps[0])
        self.rest = Compose(steps[1:])

    def __call__(self, item: InputType) -> dict:
        if isinstance(item, str):
            check_pixel_limit(item, self.max_megapixels)
            results = self.load(dict(img_path=item))
        else:
            results = dict(img=item) if isinstance(item, np.ndarray) else dict(item)
            img = results['img']
            results.setdefault('img_path', array_name(img))
            results.update(img_shape=img.shape[:2], ori_shape=img.shape[:2])
        return self.rest(results)


