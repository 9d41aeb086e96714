"""Which model an inferencer runs (:class:`ModelCard`): its config, its checkpoint file and
what it was trained on, read from the checkpoint's meta
(:class:`~dadf_mm.engine.TrainingDataHook` writes it), with a warning when that was
synthetic data. ``tools/infer.py`` prints it and writes it to ``model.json``; the web page
shows it."""
import os.path as osp
from dataclasses import asdict, dataclass
from typing import List, Optional

from mmengine.config import Config

from ..engine import TRAINING_DATA_KEY, training_data_record

#: where the training data was read from
FROM_CHECKPOINT = 'checkpoint meta'
FROM_CONFIG = 'config (the checkpoint does not record it)'


@dataclass
class ModelCard:
    """What model runs.

    Attributes:
        config (str): the config's name (its file name without ``.py``, or the model name).
        config_file (str): the config as given (a path or a model name).
        checkpoint (str, optional): the checkpoint file; None for the config's initial
            weights.
        training_data (list[dict]): per training dataset ``type``, ``synthetic`` and, where
            known, ``data_root`` and ``split``; empty when unknown.
        training_data_source (str): where ``training_data`` was read: the checkpoint's
            meta, or the config when the checkpoint does not record it.
        trained_iterations (int, optional): the training iteration the checkpoint was
            saved at (its meta's ``iter``), when recorded. Defaults to None.
        encoder_path (str, optional): on a CPU, the encoder path that runs and why
            (:meth:`~.cpu_path.CPUPathChoice.summary`); None on a GPU. Defaults to None.
    """

    config: str
    config_file: str
    checkpoint: Optional[str]
    training_data: List[dict]
    training_data_source: str
    trained_iterations: Optional[int] = None
    encoder_path: Optional[str] = None

    @classmethod
    def describe(cls, config_file: str, checkpoint: Optional[str], meta: dict,
                 cfg: Config, encoder_path: Optional[str] = None) -> 'ModelCard':
        """The card of a model built from ``cfg`` with ``checkpoint`` loaded.

        Args:
            config_file (str): the config as given (a path or a model name).
            checkpoint (str, optional): the checkpoint file; None for initial weights.
            meta (dict): the checkpoint's meta (empty when none).
            cfg (Config): the model's config (read when the meta records no training
                data).
            encoder_path (str, optional): the encoder path on a CPU. Defaults to None.

        Returns:
            ModelCard: the card.
        """
        record = meta.get(TRAINING_DATA_KEY) if isinstance(meta, dict) else None
        source = FROM_CHECKPOINT
        if not isinstance(record, dict):
            record, source = training_data_record(cfg) or {}, FROM_CONFIG
        name = osp.basename(str(config_file))
        iterations = meta.get('iter') if isinstance(meta, dict) else None
        return cls(config=name[:-3] if name.endswith('.py') else name,
                   config_file=str(config_file), checkpoint=checkpoint,
                   training_data=list(record.get('datasets') or []),
                   training_data_source=source,
                   trained_iterations=int(iterations) if iterations is not None else None,
                   encoder_path=encoder_path)

    @property
    def synthetic(self) -> bool:
        """bool: whether any training dataset is synthetic."""
        return any(d.get('synthetic') for d in self.training_data)

    @property
    def trained_on(self) -> str:
        """str: the training datasets in words, e.g. ``'SyntheticForgeryDataset (split
        train)'``."""
        if self.checkpoint is None:
            return 'nothing: the config\'s initial weights (no checkpoint)'
        if not self.training_data:
            return 'not recorded'
        words = []
        for d in self.training_data:
            extra = ', '.join(f'{k.replace("_", " ")} {d[k]}' for k in ('data_root', 'split')
                              if d.get(k))
            words.append(f'{d["type"]} ({extra})' if extra else d['type'])
        return '; '.join(words) + (f', from the {self.training_data_source}'
                                   if self.training_data_source != FROM_CHECKPOINT else '')

    @property
    def warning(self) -> Optional[str]:
        """str | None: the warning for a model trained on synthetic data (None else)."""
        if not (self.checkpoint and self.synthetic):
            return None
        kinds = ', '.join(sorted({d['type'] for d in self.training_data if d['synthetic']}))
        return (f'this model was trained on synthetic data ({kinds}): its scores on real '
                'photographs and videos are not evidence of forgery')

    def lines(self) -> List[str]:
        """The card as text lines (what ``tools/infer.py`` prints).

        Returns:
            list[str]: ``model``, ``checkpoint``, ``trained on`` and, for synthetic
            training data, ``WARNING``.
        """
        lines = [f'model: {self.config} ({self.config_file})',
                 f'checkpoint: {self.checkpoint or "none (initial weights)"}'
                 + (f', saved at iteration {self.trained_iterations}'
                    if self.trained_iterations is not None else ''),
                 f'trained on: {self.trained_on}']
        if self.warning:
            lines.append(f'WARNING: {self.warning}')
        return lines

    def as_dict(self) -> dict:
        """The JSON-able card (``model.json``).

        Returns:
            dict: the attributes, ``synthetic``, ``trained_on`` and ``warning``.
        """
        return dict(asdict(self), synthetic=self.synthetic, trained_on=self.trained_on,
                    warning=self.warning)
