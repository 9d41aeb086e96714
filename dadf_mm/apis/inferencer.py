"""The forgery inferencer: a DADF model on images, face crops and videos, on mmengine's
:class:`~mmengine.infer.BaseInferencer` (as mmseg's ``MMSegInferencer``).

Images go through the config's test pipeline (``test_dataloader.dataset.pipeline``, its
annotation loading left out: an input's truth is unknown), which resizes any image to the
model's input size; masks and probability maps come back at the image's own size.
"""
import copy
import math
import os
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Union

import mmcv
import numpy as np
import torch
from mmengine.config import Config, ConfigDict
from mmengine.dataset import pseudo_collate
from mmengine.infer import BaseInferencer
from mmengine.logging import print_log
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from ..engine import check_checkpoint_fits, decide_at_threshold
from ..visualization import ForgeryVisualizer
from .config_checks import apply_cfg_options
from .cpu_path import CPUPathChoice, choose_cpu_path, cpu_path_cache_key, encoder_keys_given
from .devices import checked_device, default_device
from .face_inference import FaceInference
from .image_files import DEFAULT_MAX_MEGAPIXELS, read_image
from .inferencer_results import ForgeryPrediction, NonFiniteOutputError
from .input_pipeline import IMAGE_SUFFIXES, InputPipeline, InputType
from .model_card import ModelCard
from .model_index import find_model


class ForgeryInferencer(FaceInference, BaseInferencer):
    """A DADF model from a config and checkpoint, for images, face crops and videos.

    ``inferencer(inputs)`` (paths, a folder, BGR arrays, or ``dict(img=, img_path=)``)
    returns ``dict(predictions=[...], visualization=[...])``: per image ``name``,
    ``fake_probability``, ``is_fake``, ``decision``, ``threshold``, ``mask`` (H x W uint8,
    1 forged) and ``probability_map`` (H x W float32), at the image's size;
    ``return_datasamples=True`` gives the ``SegDataSample``\\ s instead, ``return_vis=True``
    the pictures (:class:`~dadf_mm.visualization.ForgeryVisualizer`, RGB), ``out_dir``
    writes them to ``<out_dir>/vis/``. :meth:`predict_image` and :meth:`predict_video` work
    on faces in pictures and videos. :attr:`model_card` says which model runs
    (:class:`~.model_card.ModelCard`: config, checkpoint, what it was trained on).

    On a CPU the encoder runs the fast path (float32 with a bfloat16 tangent) where the
    CPU has native bfloat16 and a check on the loaded weights keeps RGA's signal
    (corr(S, S_fp32) >= 0.99), else the exact float32 path
    (:func:`~.cpu_path.choose_cpu_path`); :attr:`cpu_path` says which and why (None on a
    GPU), logged once and shown on the model card.

    The mask follows the decision (``mask_from_fake_only``): a face judged real has an
    empty mask, so the two never contradict; the probability map is the model's as is.

    Args:
        config (str | Config): config path, a model name of ``configs/dadf/metafile.yaml``
            (``'dadf_vit-h_ffpp-hq'``, :func:`~dadf_mm.apis.model_index.find_model`) or a
            :class:`Config` (not modified).
        checkpoint (str, optional): a trained DADF checkpoint. Defaults to None (the
            config's own initial weights).
        device (str, optional): ``'cpu'``, ``'cuda'``, ``'cuda:1'`` ... Defaults to None
            (``'cuda'`` when a GPU is available, else ``'cpu'``).
        threshold (float, optional): a face is judged fake when its probability is above
            it. Defaults to None: the checkpoint's calibrated one, else 0.5 (see :attr:`decision`).
        batch_size (int): images per forward pass in :meth:`predict`. Defaults to 4.
        cfg_options (dict, optional): ``--cfg-options``, checked as the tools check them.
            Defaults to None.
        allow_partial_checkpoint (bool): load a checkpoint lacking some of the weights.
            Defaults to False.
        allow_new_keys (bool): let ``cfg_options`` add keys nothing reads. Defaults to
            False.
        mask_from_fake_only (bool): empty the mask of a face judged real. Defaults to True.
        show_progress (bool): a progress bar over batches. Defaults to False.
        max_megapixels (float): an image file larger than this (millions of pixels) is
            refused before it is decoded. Defaults to
            :data:`~dadf_mm.apis.image_files.DEFAULT_MAX_MEGAPIXELS`.
        exact (bool): on a CPU, run the exact float32 encoder: no fast path, no start-up
            check. Defaults to False.

    Raises:
        CheckpointFileError: the checkpoint is unreadable or holds another model's weights.
        ValueError: the test pipeline does not make inputs of the model's input size, or
            ``device`` is not one this machine has.
        NonFiniteOutputError: (when predicting) the model gives a fake probability that is
            not a finite number; no prediction is returned.
    """

    preprocess_kwargs: set = set()
    forward_kwargs: set = set()
    visualize_kwargs: set = {'return_vis', 'show', 'wait_time', 'out_dir'}
    postprocess_kwargs: set = set()

    def __init__(self, config: Union[str, Config], checkpoint: Optional[str] = None, *,
                 device: Optional[str] = None, threshold: Optional[float] = None,
                 batch_size: int = 4, cfg_options: Optional[dict] = None,
                 allow_partial_checkpoint: bool = False, allow_new_keys: bool = False,
                 mask_from_fake_only: bool = True, show_progress: bool = False,
                 max_megapixels: float = DEFAULT_MAX_MEGAPIXELS, exact: bool = False) -> None:
        from mmseg.utils import register_all_modules
        register_all_modules(init_default_scope=True)
        if isinstance(config, str) and not config.endswith('.py') and not osp.isfile(config):
            config = find_model(config)  # a model name; unknown: the nearest names
        cfg = Config.fromfile(config) if isinstance(config, str) else copy.deepcopy(config)
        apply_cfg_options(cfg, cfg_options or {}, allow_new_keys)
        cfg.model.sam_checkpoint = None  # the trained checkpoint holds SAM's weights
        cfg.model.train_cfg = None
        if mask_from_fake_only:  # at self.threshold, set when the model is loaded
            cfg.model.test_cfg = dict(cfg.model.get('test_cfg') or {}, mask_from_fake_only=True)
        self.config_name = config if isinstance(config, str) else (cfg.filename or 'config')
        self.given_threshold = threshold
        self.batch_size = batch_size
        self.allow_partial_checkpoint = allow_partial_checkpoint
        self.device = checked_device(device) if device else default_device()
        self.checkpoint = checkpoint
        self.max_megapixels = max_megapixels
        self.face_detector = None  # None: CenterFace, built on first use
        size = cfg.model.data_preprocessor.get('size') or (1024, 1024)
        self.input_size = tuple(size)
        self.checkpoint_meta: dict = {}  # the checkpoint's meta, set when it is loaded
        self.exact = exact
        self.encoder_keys = encoder_keys_given(cfg_options)
        self.cpu_path: Optional[CPUPathChoice] = None  # set when the model is loaded
        super().__init__(model=cfg, weights=checkpoint, device=self.device, scope='mmseg',
                         show_progress=show_progress)
        self.model_card = ModelCard.describe(
            self.config_name, checkpoint, self.checkpoint_meta, cfg,
            encoder_path=self.cpu_path.summary() if self.cpu_path else None)

    # BaseInferencer's building blocks -----------------------------------------------------
    def _init_model(self, cfg: ConfigDict, weights: Optional[str],
                    device: str = 'cpu') -> torch.nn.Module:
        from mmengine.runner import load_checkpoint
        model, loaded = MODELS.build(cfg.model), None
        if weights is not None:
            # mmengine loads non-strictly: refuse a file of another model (a SAM checkpoint
            # ...) with what it is instead
            check_checkpoint_fits(model, weights, allow_partial=self.allow_partial_checkpoint)
            loaded = load_checkpoint(model, weights, map_location='cpu')
            meta = loaded.get('meta', {}) if isinstance(loaded, dict) else {}
            self.checkpoint_meta = meta if isinstance(meta, dict) else {}
            if meta.get('dataset_meta'):
                model.dataset_meta = meta['dataset_meta']
        self.decision = decide_at_threshold(model, loaded, self.given_threshold)
        self.threshold = self.decision.value
        model.cfg = cfg
        model = model.to(device).eval()
        if torch.device(device).type == 'cpu':  # on a GPU the config's encoder runs
            self.cpu_path = choose_cpu_path(
                model, exact=self.exact, cache_key=cpu_path_cache_key(weights, cfg.model),
                given_keys=self.encoder_keys)
            print_log(self.cpu_path.log_line(), logger='current')
        return model

    def _init_pipeline(self, cfg: ConfigDict) -> InputPipeline:
        loader = cfg.get('test_dataloader') or {}
        pipeline = (loader.get('dataset') or {}).get('pipeline') or cfg.get('test_pipeline')
        if not pipeline:
            raise ValueError(f'{self.config_name} has no test pipeline: set '
                             'test_dataloader.dataset.pipeline')
        return InputPipeline(pipeline, max_megapixels=self.max_megapixels)

    def _init_collate(self, cfg: ConfigDict):
        return pseudo_collate  # a list of packed samples -> dict(inputs=[...], ...)

    def _init_visualizer(self, cfg: ConfigDict) -> ForgeryVisualizer:
        return ForgeryVisualizer(name=f'forgery_inferencer_{id(self)}',
                                 threshold=self.threshold)

    def _inputs_to_list(self, inputs: Any) -> list:
        if isinstance(inputs, str) and osp.isdir(inputs):
            return [osp.join(inputs, n) for n in sorted(os.listdir(inputs))
                    if n.lower().endswith(IMAGE_SUFFIXES)]
        return list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]

    def preprocess(self, inputs: list, batch_size: int = 1, **kwargs):
        """Inputs through the test pipeline, collated in batches.

        Args:
            inputs (list): paths, BGR arrays or ``dict(img=, img_path=)``.
            batch_size (int): images per batch. Defaults to 1.
            **kwargs: unused.

        Yields:
            dict: a batch for ``model.test_step``.

        Raises:
            ValueError: the pipeline makes inputs of another size than the model's.
        """
        for chunk in self._get_chunk_data(map(self.pipeline, inputs), batch_size):
            for packed in chunk:
                self._check_size(packed)
            yield self.collate_fn(chunk)

    def _check_size(self, packed: dict) -> None:
        got = tuple(packed['inputs'].shape[-2:])
        if got != self.input_size:
            h, w = self.input_size
            raise ValueError(
                f'{self.config_name}: its test pipeline makes {got[1]}x{got[0]} (WxH) inputs '
                f'but the model takes {w}x{h}: add dict(type=\'Resize\', scale=({w}, {h}), '
                'keep_ratio=False) after the image loader of test_dataloader.dataset.pipeline')

    def forward(self, inputs: Union[dict, tuple], **kwargs) -> List[SegDataSample]:
        """The model's predictions of a batch, each checked to be finite.

        Args:
            inputs (dict | tuple): a batch from :meth:`preprocess`.
            **kwargs: unused.

        Returns:
            list[SegDataSample]: the predictions.

        Raises:
            NonFiniteOutputError: a fake probability (or a pixel's) is nan or infinite.
        """
        samples = super().forward(inputs, **kwargs)
        for sample in samples:
            self._check_finite(sample)
        return samples

    def _check_finite(self, sample: SegDataSample) -> None:
        score = sample.pred_score.float()
        probs = sample.seg_logits.data
        if bool(torch.isfinite(score).all()) and bool(torch.isfinite(probs).all()):
            return
        what = (f'fake probability {float(score.flatten()[0])}' if not
                bool(torch.isfinite(score).all()) else 'per-pixel fake probabilities')
        source = (f'checkpoint {self.checkpoint}' if self.checkpoint
                  else f'the initial weights of {self.config_name}')
        raise NonFiniteOutputError(
            f'{source} gives a {what} (not a finite number) for {sample.img_path}: its '
            'weights or the config make non-finite values (a training run that diverged?); '
            'use an earlier checkpoint, or check model.* in --cfg-options')

    def visualize(self, inputs: list, preds: List[SegDataSample], return_vis: bool = False,
                  show: bool = False, wait_time: float = 0, out_dir: str = ''
                  ) -> Optional[List[np.ndarray]]:
        """Pictures of the predictions (:class:`ForgeryVisualizer`, RGB).

        Args:
            inputs (list): the inputs, as given.
            preds (list[SegDataSample]): their predictions.
            return_vis (bool): return the pictures. Defaults to False.
            show (bool): show them in a window. Defaults to False.
            wait_time (float): how long to show each (s). Defaults to 0.
            out_dir (str): write them to ``<out_dir>/vis/<name>.png``. Defaults to ''
                (not written).

        Returns:
            list[np.ndarray] | None: the pictures when ``return_vis`` or ``show``.
        """
        if not (return_vis or show or out_dir):
            return None
        pictures = []
        for item, pred in zip(inputs, preds):
            picture = self.visualizer.draw_sample(self._rgb(item), pred)
            if show:
                self.visualizer.show(picture, win_name=pred.img_path, wait_time=wait_time)
            if out_dir:
                name = osp.basename(str(pred.img_path)).replace(':', '_')
                mmcv.imwrite(mmcv.rgb2bgr(picture), osp.join(out_dir, 'vis', f'{name}.png'))
            pictures.append(picture)
        return pictures if (return_vis or show) else None

    @staticmethod
    def _rgb(item: InputType) -> np.ndarray:
        if isinstance(item, str):  # read as the pipeline read it (its size checked there)
            return np.ascontiguousarray(read_image(item, max_megapixels=math.inf)[..., ::-1])
        img = item if isinstance(item, np.ndarray) else item['img']
        return np.ascontiguousarray(img[..., ::-1])

    def postprocess(self, preds: List[SegDataSample],
                    visualization: Optional[List[np.ndarray]],
                    return_datasamples: bool = False, **kwargs) -> Dict[str, list]:
        """The inferencer's answer.

        Args:
            preds (list[SegDataSample]): the predictions.
            visualization (list[np.ndarray], optional): the pictures.
            return_datasamples (bool): return the data samples themselves. Defaults to
                False.
            **kwargs: unused.

        Returns:
            dict: ``predictions`` (the data samples, or per image a dict of
            :meth:`ForgeryPrediction.as_dict` plus ``mask`` and ``probability_map``) and
            ``visualization`` (the pictures, or an empty list).
        """
        if return_datasamples:
            predictions: list = list(preds)
        else:
            predictions = []
            for sample in preds:
                pred = ForgeryPrediction.from_sample(sample, name=str(sample.img_path),
                                                     threshold=self.threshold)
                predictions.append(dict(pred.as_dict(), mask=pred.mask,
                                        probability_map=pred.probability_map))
        return dict(predictions=predictions, visualization=visualization or [])

    # faces, pictures and videos -----------------------------------------------------------
    def predict(self, images: Sequence[np.ndarray], names: Sequence[str]
                ) -> List[ForgeryPrediction]:
        """Predict face crops.

        Args:
            images (Sequence[np.ndarray]): BGR uint8 images of any size.
            names (Sequence[str]): their names (they seed each image's noisy view).

        Returns:
            list[ForgeryPrediction]: one per image, at its size.
        """
        items = [dict(img=img, img_path=name) for img, name in zip(images, names)]
        samples = self(items, return_datasamples=True, batch_size=self.batch_size)
        return [ForgeryPrediction.from_sample(s, name=name, threshold=self.threshold)
                for s, name in zip(samples['predictions'], names)]
