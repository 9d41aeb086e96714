"""Stop with one line when a batch holds images the model cannot take.

SAM's encoder takes exactly ``img_size`` x ``img_size`` (its position embedding has that
grid). mmseg's ``SegDataPreProcessor`` pads smaller training images to its ``size`` but
leaves evaluation batches alone: a pipeline without ``Resize`` then fails with "The image
size in a batch should be the same." (different sizes) or a tensor size mismatch deep in
the encoder (one other size), neither naming an image. configs/_base_/dadf_runtime.py
adds this hook. Other backbones are not checked: mmseg's ``VisionTransformer`` (whose
``img_size`` is a pair) resizes its position embedding to any input, and convolutional
backbones take any size.
"""
from typing import List, Optional, Sequence, Tuple

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmseg.registry import HOOKS


class InputSizeError(ValueError):
    """Images of a size the model cannot take, with the pipeline fix."""


def _paths(data_batch: dict) -> List[str]:
    samples = data_batch.get('data_samples') or []
    return [str(getattr(s, 'metainfo', {}).get('img_path', '?')) for s in samples]


@HOOKS.register_module()
class InputSizeCheckHook(Hook):
    """Check each batch's image sizes against ``backbone.img_size`` where the backbone
    takes exactly that size.

    Args:
        fixed_size_backbones (Sequence[str]): Class names of the backbones that take
            exactly ``img_size`` (an int, or a pair (H, W)); the others are not checked.
            Defaults to ``('SAMViT',)``.
    """

    priority = 'VERY_HIGH'

    def __init__(self, *, fixed_size_backbones: Sequence[str] = ('SAMViT',)):
        self.fixed_size_backbones = tuple(fixed_size_backbones)

    def _size(self, runner) -> Optional[Tuple[int, int]]:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        backbone = getattr(model, 'backbone', None)
        if type(backbone).__name__ not in self.fixed_size_backbones:
            return None
        size = getattr(backbone, 'img_size', None)
        if isinstance(size, int) and not isinstance(size, bool):
            return size, size
        if isinstance(size, (tuple, list)) and len(size) == 2 and \
                all(isinstance(v, int) for v in size):
            return int(size[0]), int(size[1])
        return None  # nothing this hook can read

    def _check(self, runner, data_batch, split: str, pads: bool) -> None:
        size = self._size(runner)
        inputs: Sequence = (data_batch or {}).get('inputs') or []
        if size is None or not inputs:
            return
        height, width = size
        shapes = [tuple(x.shape[-2:]) for x in inputs]
        bad = [(p, s) for p, s in zip(_paths(data_batch) or ['?'] * len(shapes), shapes)
               if (s[0] > height or s[1] > width if pads else s != size)]
        if not bad:
            return
        listed = ', '.join(f'{p} ({s[1]}x{s[0]})' for p, s in bad[:3])
        more = f' and {len(bad) - 3} more' if len(bad) > 3 else ''
        raise InputSizeError(
            f'{split}_dataloader: {listed}{more} not of the model\'s input size '
            f'{width}x{height} (model.backbone.img_size): add dict(type=\'Resize\', '
            f'scale=({width}, {height}), keep_ratio=False) to '
            f'{split}_dataloader.dataset.pipeline before PackSegInputs, or set img_size '
            '(and model.data_preprocessor.size) to the images\' size')

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self._check(runner, data_batch, 'train', pads=True)

    def before_val_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self._check(runner, data_batch, 'val', pads=False)

    def before_test_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self._check(runner, data_batch, 'test', pads=False)
