"""A visualizer that says what a forgery prediction is, and whether it is right."""
import warnings
from typing import List, Optional, Sequence

import cv2
import mmcv
import numpy as np
from mmengine.dist import master_only
from mmseg.registry import VISUALIZERS
from mmseg.structures import SegDataSample
from mmseg.visualization import SegLocalVisualizer

from .drawing import (
    NEUTRAL_RGB,
    Verdict,
    draw_banner,
    layout_banner,
    tint,
    truth_parts,
    upscale,
)

#: white columns between the truth panel and the prediction panel
PANEL_GAP = 4
TENSORBOARD_BACKENDS = ('TensorboardVisBackend',)


def tensorboard_importable() -> bool:
    """Whether TensorBoard logging can work.

    Returns:
        bool: whether ``torch.utils.tensorboard`` (the ``tensorboard`` package) imports.
    """
    try:
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    except ImportError:
        return False
    return True


def usable_backends(vis_backends: Optional[Sequence[dict]]) -> Optional[List[dict]]:
    """The backends a visualizer can use here.

    Args:
        vis_backends (Sequence[dict], optional): backend configs.

    Returns:
        list[dict] | None: copies of ``vis_backends``, without TensorBoard when
        ``tensorboard`` is not installed (with a warning saying how to get it): mmengine's
        backend would otherwise stop a run at its first log line.
    """
    if vis_backends is None:
        return None
    # copies: mmengine's Visualizer writes save_dir into the configs it is given
    backends = [dict(b) if isinstance(b, dict) else b for b in (
        [vis_backends] if isinstance(vis_backends, dict) else vis_backends)]
    wants_tb = [b for b in backends if isinstance(b, dict)
                and b.get('type') in TENSORBOARD_BACKENDS]
    if not wants_tb or tensorboard_importable():
        return backends
    warnings.warn('visualizer: tensorboard is not installed, so nothing is logged to '
                  'TensorBoard (pictures and scalars still go to the other backends); '
                  'install it with `pip install tensorboard` (tools/setup_env.sh does)')
    return [b for b in backends if b not in wants_tb]


def _numpy(field) -> np.ndarray:
    data = field.data
    data = data.detach().cpu().numpy() if hasattr(data, 'detach') else np.asarray(data)
    return data[0] if data.ndim == 3 else data


def _fit(mask: Optional[np.ndarray], shape: tuple) -> Optional[np.ndarray]:
    if mask is None or mask.shape[:2] == shape[:2]:
        return mask
    return cv2.resize(mask.astype(np.uint8), (shape[1], shape[0]),
                      interpolation=cv2.INTER_NEAREST)


@VISUALIZERS.register_module()
class ForgeryVisualizer(SegLocalVisualizer):
    """Draws a DADF prediction: the forged region tinted red under a banner with the fake
    score and the decision (``FAKE 0.91`` / ``real 0.12``). When the data sample carries
    the truth (``gt_label`` in its metainfo, ``gt_sem_seg`` from a dataset), a truth panel
    with the true mask comes first and the prediction's banner adds the truth and the
    verdict, green when right and red when wrong (``FAKE 0.91 | truth: real | WRONG``);
    without truth the banner is grey. Pictures smaller than ``min_size`` are enlarged by an
    integer factor so the text stays legible.

    Used by ``SegVisualizationHook`` (validation, ``tools/test.py --show-dir``), saving
    through the configured backends, and by :class:`~dadf_mm.apis.inference.ForgeryInferencer`. A
    TensorBoard backend is left out, with a warning, when ``tensorboard`` is missing.

    Args:
        name (str): the instance name. Defaults to 'visualizer'.
        image (np.ndarray, optional): an image to start with. Defaults to None.
        vis_backends (list[dict], optional): backend configs. Defaults to None.
        save_dir (str, optional): where backends save; None saves nothing. Defaults to
            None.
        alpha (float): opacity of the red tint. Defaults to 0.5.
        threshold (float): a face is judged fake when its score is above it. Defaults
            to 0.5.
        min_size (int): shorter side below which a picture is enlarged. Defaults to 256.
        classes (Sequence[str]): class names (mmseg's visualizer needs them). Defaults to
            ``('pristine', 'forged')``.
        palette (Sequence[Sequence[int]]): their colours. Defaults to black and red.
        **kwargs: as :class:`mmengine.visualization.Visualizer`.
    """

    def __init__(self,
                 name: str = 'visualizer',  # positional: mmengine's ManagerMixin needs it
                 *,
                 image: Optional[np.ndarray] = None,
                 vis_backends: Optional[Sequence[dict]] = None,
                 save_dir: Optional[str] = None,
                 alpha: float = 0.5,
                 threshold: float = 0.5,
                 min_size: int = 256,
                 classes: Sequence[str] = ('pristine', 'forged'),
                 palette: Sequence[Sequence[int]] = ((0, 0, 0), (255, 0, 0)),
                 **kwargs) -> None:
        super().__init__(name=name, image=image, vis_backends=usable_backends(vis_backends),
                         save_dir=save_dir, classes=list(classes),
                         palette=[list(c) for c in palette], alpha=alpha, **kwargs)
        self.threshold = threshold
        self.min_size = min_size

    def draw_sample(self, image: np.ndarray, data_sample: SegDataSample, *,
                    draw_gt: bool = True, draw_pred: bool = True) -> np.ndarray:
        """The picture of one sample, without saving it.

        Args:
            image (np.ndarray): H x W x 3 RGB uint8, at the sample's original size.
            data_sample (SegDataSample): with ``pred_sem_seg`` and ``pred_score``; the truth
                from ``gt_label`` (metainfo), ``gt_sem_seg`` and ``has_mask`` when known.
            draw_gt (bool): draw the truth panel (when the truth is known). Defaults to
                True.
            draw_pred (bool): draw the prediction panel. Defaults to True.

        Returns:
            np.ndarray: the RGB picture (panels side by side, banners on top).
        """
        meta = data_sample.metainfo
        truth = meta.get('gt_label')
        truth = None if truth is None else int(truth)
        gt_mask = _numpy(data_sample.gt_sem_seg) if 'gt_sem_seg' in data_sample else None
        pred_mask = _numpy(data_sample.pred_sem_seg) if 'pred_sem_seg' in data_sample \
            else None
        score = float(data_sample.pred_score) if 'pred_score' in data_sample else None
        image, (gt_mask, pred_mask) = upscale(
            image, [_fit(gt_mask, image.shape), _fit(pred_mask, image.shape)], self.min_size)
        width = image.shape[1]
        panels = []  # (picture, banner layout, banner colour)
        if draw_gt and truth is not None:
            mask_known = bool(meta.get('has_mask', gt_mask is not None))
            shown = image if gt_mask is None else tint(image, gt_mask, self.alpha)
            panels.append((shown, layout_banner(width, truth_parts(truth, mask_known)),
                           NEUTRAL_RGB))
        if draw_pred and (pred_mask is not None or score is not None):
            verdict = Verdict(score, self.threshold, truth)
            shown = image if pred_mask is None else tint(image, pred_mask, self.alpha)
            panels.append((shown, layout_banner(width, verdict.parts()), verdict.colour()))
        if not panels:
            return image
        height = max(layout.height for _, layout, _ in panels)
        drawn = []
        for picture, layout, colour in panels:
            strip = np.zeros((height, width, 3), np.uint8)
            drawn.append(np.concatenate([draw_banner(strip, layout, colour, height), picture]))
            drawn.append(np.full((drawn[-1].shape[0], PANEL_GAP, 3), 255, np.uint8))
        return np.concatenate(drawn[:-1], axis=1)

    @master_only
    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample: Optional[SegDataSample] = None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       step: int = 0,
                       with_labels: Optional[bool] = True) -> None:
        """Draw a sample (:meth:`draw_sample`) and show it, write it to ``out_file``, or
        hand it to every backend (mmseg's signature; ``with_labels`` is unused).

        Args:
            name (str): the picture's name in the backends.
            image (np.ndarray): the RGB image at the sample's original size.
            data_sample (SegDataSample, optional): the prediction (and truth). Defaults
                to None (the image as it is).
            draw_gt (bool): draw the truth panel when the truth is known. Defaults to True.
            draw_pred (bool): draw the prediction panel. Defaults to True.
            show (bool): show in a window. Defaults to False.
            wait_time (float): how long to show it (s). Defaults to 0.
            out_file (str, optional): write the picture there instead of to the backends.
                Defaults to None.
            step (int): the training iteration the picture belongs to. Defaults to 0.
            with_labels (bool, optional): unused. Defaults to True.
        """
        drawn = image if data_sample is None else self.draw_sample(
            image, data_sample, draw_gt=draw_gt, draw_pred=draw_pred)
        self.set_image(drawn)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(mmcv.rgb2bgr(drawn), out_file)
        else:
            self.add_image(name, drawn, step)
