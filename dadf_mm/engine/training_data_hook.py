"""What a model was trained on, written into every checkpoint's meta
(``meta['training_data']``, :class:`TrainingDataHook`), so that the inferencer, the web
page and ``tools/infer.py`` can say it: the dataset types of the config's
``train_dataloader`` (through ``ConcatDataset`` and the other wrappers), their data roots
and splits, and whether they are synthetic (a dataset class with ``synthetic = True``)."""
from typing import List, Optional

from mmengine.config import Config
from mmengine.hooks import Hook
from mmseg.registry import DATASETS, HOOKS

#: the checkpoint meta key of the record
TRAINING_DATA_KEY = 'training_data'
#: the recorded settings of each dataset, when the config gives them
RECORDED_SETTINGS = ('data_root', 'split')


def _datasets(dataset: dict) -> List[dict]:
    """The leaf datasets of a dataset config (wrappers opened)."""
    if isinstance(dataset.get('datasets'), (list, tuple)):
        return [d for child in dataset['datasets'] for d in _datasets(child)]
    if isinstance(dataset.get('dataset'), dict):
        return _datasets(dataset['dataset'])
    return [dataset]


def _is_synthetic(dataset_type: str) -> bool:
    cls = DATASETS.get(dataset_type) if isinstance(dataset_type, str) else dataset_type
    return bool(getattr(cls, 'synthetic', False))


def training_data_record(cfg: Config) -> Optional[dict]:
    """The record of what ``cfg`` trains on.

    Args:
        cfg (Config): a training config.

    Returns:
        dict | None: ``datasets`` (per dataset ``type``, ``synthetic`` and, where set,
        ``data_root`` and ``split``) and ``synthetic`` (any of them is); None when the
        config has no ``train_dataloader.dataset``.
    """
    dataset = (cfg.get('train_dataloader') or {}).get('dataset')
    if not dataset:
        return None
    datasets = []
    for leaf in _datasets(dataset):
        kind = leaf.get('type')
        entry = dict(type=kind if isinstance(kind, str) else getattr(kind, '__name__', '?'),
                     synthetic=_is_synthetic(kind))
        entry.update({k: str(leaf[k]) for k in RECORDED_SETTINGS if leaf.get(k)})
        datasets.append(entry)
    return dict(datasets=datasets, synthetic=any(d['synthetic'] for d in datasets))


@HOOKS.register_module()
class TrainingDataHook(Hook):
    """Writes :func:`training_data_record` of the run's config into every checkpoint
    (``meta['training_data']``); ``tools/train.py`` adds it to every run."""

    priority = 'NORMAL'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        record = training_data_record(runner.cfg)
        if record is not None:
            checkpoint.setdefault('meta', {})[TRAINING_DATA_KEY] = record
