"""The constant disc travels with the model: fitted on the training masks once, scored in
every validation, written into every checkpoint.

``ForgeryMetric`` prints a localisation figure beside the baselines a mask must beat; two
of them draw the constant disc of the training masks
(:class:`~dadf_mm.evaluation.constant_disc.ConstantDisc`). :class:`ConstantDiscHook` fits
it before training (a resumed run reads it back from the checkpoint instead), hands it to
the validation metrics and stores it in each checkpoint's ``meta``, where
``tools/test.py`` finds it.
"""
from typing import Any, Iterable, Optional

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmseg.registry import HOOKS

from ..evaluation.constant_disc import (
    ConstantDisc,
    NoTrainingMasksError,
    dataset_name,
    fit_constant_disc,
)
from ..evaluation.metric_settings import set_on_forgery_metrics

#: the key of a checkpoint's ``meta`` that holds the disc (:meth:`ConstantDisc.to_dict`)
META_KEY = 'constant_disc'


def disc_from_checkpoint(checkpoint: Any) -> Optional[ConstantDisc]:
    """The constant disc a checkpoint's ``meta`` carries.

    Args:
        checkpoint (Any): What a checkpoint file holds.

    Returns:
        ConstantDisc | None: The disc; None when the checkpoint carries none (a file
        from before discs were saved, or of a run without training masks).
    """
    meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
    values = meta.get(META_KEY) if isinstance(meta, dict) else None
    if values is None:
        return None
    try:
        return ConstantDisc.from_dict(values)
    except ValueError as err:
        print_log(f'constant disc: the checkpoint\'s meta.{META_KEY} is unusable ({err}); '
                  'treating it as absent', logger='current')
        return None


def set_constant_disc(metrics: Iterable[Any], disc: Optional[ConstantDisc]) -> int:
    """Give ``disc`` to every :class:`~dadf_mm.evaluation.ForgeryMetric` among ``metrics``.

    Args:
        metrics (Iterable[Any]): An evaluator's metrics (``Evaluator.metrics``).
        disc (ConstantDisc, optional): The disc; None leaves the disc baselines out.

    Returns:
        int: How many metrics received it.
    """
    return set_on_forgery_metrics(metrics, constant_disc=disc)


def fit_or_explain(dataset: Any, **kwargs) -> Optional[ConstantDisc]:
    """:func:`~dadf_mm.evaluation.constant_disc.fit_constant_disc`, or None with one log
    line where the set has no fake with a mask (a detection-only set).

    Args:
        dataset (Any): The training set.
        **kwargs: ``max_masks``, ``seed``.

    Returns:
        ConstantDisc | None: The disc, or None.
    """
    try:
        return fit_constant_disc(dataset, **kwargs)
    except NoTrainingMasksError as err:
        print_log(f'constant disc: none, so only the empty-mask baseline is scored: {err}',
                  logger='current')
        return None


@HOOKS.register_module()
class ConstantDiscHook(Hook):
    """Fits the constant disc on the training set before training, scores it in every
    validation, and writes it into every checkpoint (``meta['constant_disc']``).

    A resumed run (``--resume``) reads the disc back from the checkpoint it resumes, where
    that carries one; a run started from ``load_from`` fits its own (its training set may
    differ). A training set without masks gives no disc and one log line; training goes on.

    Args:
        max_masks (int): Fit on at most this many training masks (a seeded subset).
            Defaults to 2000.
        seed (int): Seed of that subset. Defaults to 0.
    """

    priority = 'NORMAL'

    def __init__(self, *, max_masks: int = 2000, seed: int = 0) -> None:
        self.max_masks = max_masks
        self.seed = seed
        self.disc: Optional[ConstantDisc] = None
        self._resumed_disc: Optional[ConstantDisc] = None

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        if getattr(runner, '_resume', False):
            self._resumed_disc = disc_from_checkpoint(checkpoint)

    def before_train(self, runner) -> None:
        if self._resumed_disc is not None:
            self.disc = self._resumed_disc
            print_log(f'constant disc: read from the resumed checkpoint (fitted on '
                      f'{self.disc.num_masks} training masks)', logger='current')
        else:
            dataset = runner.train_dataloader.dataset
            if not hasattr(dataset, 'get_data_info'):
                print_log(f'constant disc: none, so only the empty-mask baseline is scored: '
                          f'the training set {dataset_name(dataset)} lists no samples '
                          '(no get_data_info)', logger='current')
            else:
                self.disc = fit_or_explain(dataset, max_masks=self.max_masks, seed=self.seed)
        if runner.val_loop is not None:
            set_constant_disc(runner.val_evaluator.metrics, self.disc)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        if self.disc is not None:
            checkpoint.setdefault('meta', {})[META_KEY] = self.disc.to_dict()
