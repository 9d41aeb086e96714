"""The ranges of the config values a run reads, checked before the runner is built.

mmengine and torch take ``train_cfg.max_iters=0``, ``val_interval=0``, ``batch_size=0``,
``num_workers=-1`` or a negative learning rate without a word and fail later (a
``ZeroDivisionError`` in the loop, a ``ValueError`` from the ``DataLoader`` or the
optimizer, after the config and hook tables are printed), or run nothing at all. Each value
here is checked against what it counts, and one line names the key, what it must be and a
value that works.
"""
import math
from dataclasses import dataclass
from typing import Any, Iterator, List, Mapping, Optional, Sequence, Tuple

from mmengine.config import Config

_ABSENT = object()


@dataclass(frozen=True)
class ValueRule:
    """What a config value must be.

    Args:
        what (str): What the value is, for the message.
        integer (bool): It counts something (an ``int``, not ``True`` or ``2.0``).
        minimum (float): The smallest value allowed.
        above (bool): It must be larger than ``minimum`` (not equal). Defaults to False.
        maximum (float, optional): The largest value allowed. Defaults to None.
        also (tuple): Values allowed besides the range (e.g. ``-1``: never). Defaults to ().
        example (Any): A value that works, when the config has none. Defaults to 1.
    """

    what: str
    integer: bool
    minimum: float
    above: bool = False
    maximum: Optional[float] = None
    also: Tuple = ()
    example: Any = 1

    def requirement(self) -> str:
        """The rule in words.

        Returns:
            str: E.g. ``'an integer of at least 1'``.
        """
        kind = 'an integer' if self.integer else 'a finite number'
        low = f'above {self.minimum:g}' if self.above else f'of at least {self.minimum:g}'
        high = '' if self.maximum is None else f' and at most {self.maximum:g}'
        also = ''.join(f' (or {value!r})' for value in self.also)
        return f'{kind} {low}{high}{also}'

    def broken_by(self, value: Any) -> bool:
        """Whether ``value`` breaks the rule.

        Args:
            value (Any): The config's value.

        Returns:
            bool: True when ``value`` is of another type or out of range.
        """
        if value in self.also and not isinstance(value, bool):
            return False
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return True
        if self.integer and not isinstance(value, int):
            return True
        if not math.isfinite(value):
            return True
        low = value > self.minimum if self.above else value >= self.minimum
        return not low or (self.maximum is not None and value > self.maximum)


COUNT = ValueRule('a count', integer=True, minimum=1)
LOADER_RULES = {
    'batch_size': ValueRule('samples per batch (per process)', integer=True, minimum=1,
                            example=2),
    'num_workers': ValueRule('data loading processes (0: in the main process)',
                             integer=True, minimum=0, example=2),
}
TRAIN_RULES = {
    'train_cfg.max_iters': ValueRule('the iterations to train', integer=True, minimum=1,
                                     example=1000),
    'train_cfg.max_epochs': ValueRule('the epochs to train', integer=True, minimum=1,
                                      example=30),
    'train_cfg.val_interval': ValueRule('iterations (epochs) between validations',
                                        integer=True, minimum=1, example=1000),
    'train_cfg.val_begin': ValueRule('the iteration (epoch) of the first validation',
                                     integer=True, minimum=0),
    'optim_wrapper.optimizer.lr': ValueRule('the learning rate', integer=False, minimum=0,
                                            example=1e-4),
    'optim_wrapper.optimizer.weight_decay': ValueRule('the weight decay', integer=False,
                                                      minimum=0, example=0.01),
    'optim_wrapper.optimizer.eps': ValueRule("the optimizer's epsilon", integer=False,
                                             minimum=0, example=1e-8),
    'optim_wrapper.optimizer.momentum': ValueRule('the momentum', integer=False, minimum=0,
                                                  example=0.9),
    'optim_wrapper.accumulative_counts': ValueRule('batches per optimizer step',
                                                   integer=True, minimum=1),
    'optim_wrapper.clip_grad.max_norm': ValueRule('the gradient norm limit', integer=False,
                                                  minimum=0, above=True, example=1.0),
    'default_hooks.checkpoint.interval': ValueRule(
        'iterations (epochs) between checkpoints', integer=True, minimum=1, also=(-1, ),
        example=1000),
    'default_hooks.checkpoint.max_keep_ckpts': ValueRule(
        'checkpoints kept (-1: all)', integer=True, minimum=1, also=(-1, ), example=2),
}
RUN_RULES = {
    'default_hooks.logger.interval': ValueRule('iterations between log lines', integer=True,
                                               minimum=1, example=50),
    'default_hooks.visualization.interval': ValueRule('batches between drawn pictures',
                                                      integer=True, minimum=1, example=50),
}
SCHEDULER_RULES = {
    'begin': ValueRule('the first step of the scheduler', integer=True, minimum=0, example=0),
    'start_factor': ValueRule('the starting factor of the learning rate', integer=False,
                              minimum=0, above=True, maximum=1, example=0.1),
    'end_factor': ValueRule('the final factor of the learning rate', integer=False,
                            minimum=0, maximum=1, example=1.0),
    'eta_min': ValueRule('the smallest learning rate', integer=False, minimum=0,
                         example=0.0),
    'warmup_start_factor': ValueRule('the starting factor of the warm-up', integer=False,
                                     minimum=0, above=True, maximum=1, example=0.1),
    'warmup_ratio': ValueRule("the warm-up's share of the run", integer=False, minimum=0,
                              maximum=1, example=0.0),
}


def _get(node: Any, dotted: str) -> Any:
    node = node._cfg_dict if isinstance(node, Config) else node
    for part in dotted.split('.'):
        if isinstance(node, (list, tuple)) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, Mapping) and part in node:
            node = node[part]
        else:
            return _ABSENT
    return node


def value_at(cfg: Any, dotted: str, default: Any = None) -> Any:
    """The value at ``dotted`` (``'param_scheduler.0.end'``) in a config.

    Args:
        cfg (Any): A config, or any nest of dicts and lists.
        dotted (str): The key, with list indices as numbers.
        default (Any): What a key the config lacks gives. Defaults to None.

    Returns:
        Any: The value, or ``default``.
    """
    value = _get(cfg, dotted)
    return default if value is _ABSENT else value


def _checked(cfg: Config, loaders: Sequence[str], train: bool
             ) -> Iterator[Tuple[str, ValueRule]]:
    rules = dict(RUN_RULES)
    if train:
        rules.update(TRAIN_RULES)
    for loader in loaders:
        rules.update({f'{loader}.{key}': rule for key, rule in LOADER_RULES.items()})
    yield from rules.items()
    if train:
        schedulers = cfg.get('param_scheduler') or []
        schedulers = schedulers if isinstance(schedulers, (list, tuple)) else [schedulers]
        for i, scheduler in enumerate(schedulers):
            if isinstance(scheduler, Mapping):
                yield from ((f'param_scheduler.{i}.{key}', rule)
                            for key, rule in SCHEDULER_RULES.items())


def _fix(key: str, rule: ValueRule, defaults: Mapping[str, Any]) -> str:
    default = defaults.get(key, _ABSENT)
    example = default if default is not _ABSENT and not rule.broken_by(default) \
        else rule.example
    return f'--cfg-options {key}={example!r}'


def config_value_problems(cfg: Config, *, loaders: Sequence[str], train: bool,
                          options: Optional[Mapping[str, Any]] = None,
                          defaults: Optional[Mapping[str, Any]] = None) -> List[str]:
    """One line per value of ``cfg`` outside its range (see :data:`TRAIN_RULES`,
    :data:`LOADER_RULES`, :data:`RUN_RULES`, :data:`SCHEDULER_RULES`).

    Args:
        cfg (Config): The config after ``--cfg-options``.
        loaders (Sequence[str]): The dataloaders the run builds, e.g.
            ``('train_dataloader', 'val_dataloader')``.
        train (bool): Check the training loop, optimizer and schedulers too.
        options (Mapping[str, Any], optional): ``--cfg-options``, so a line says where a
            value came from. Defaults to None.
        defaults (Mapping[str, Any], optional): The config file's values of the option
            keys, offered as the fix when they are in range. Defaults to None.

    Returns:
        list[str]: ``'--cfg-options KEY=VALUE: ...'`` or ``'KEY=VALUE in the config:
        ...'`` with what it must be and the fix; empty when every value is in range.
    """
    options, defaults = options or {}, defaults or {}
    problems = []
    for key, rule in _checked(cfg, loaders, train):
        value = _get(cfg, key)
        if value is _ABSENT or not rule.broken_by(value):
            continue
        where = f'--cfg-options {key}={value!r}' if key in options else \
            f'{key}={value!r} in the config'
        problems.append(f'{where}: {rule.what} must be {rule.requirement()}; set e.g. '
                        f'{_fix(key, rule, defaults)}')
    problems.extend(_loader_conflicts(cfg, loaders, options))
    if train:
        problems.extend(_scheduler_spans(cfg, options))
    return problems


def _loader_conflicts(cfg: Config, loaders: Sequence[str],
                      options: Mapping[str, Any]) -> Iterator[str]:
    """``persistent_workers=True`` with ``num_workers=0`` (torch's ``DataLoader`` refuses
    it once the runner has started)."""
    for loader in loaders:
        workers = _get(cfg, f'{loader}.num_workers')
        if _get(cfg, f'{loader}.persistent_workers') is True and workers == 0:
            given = [k for k in (f'{loader}.num_workers', f'{loader}.persistent_workers')
                     if k in options]
            where = f'--cfg-options {" ".join(given)}' if given else 'the config'
            yield (f'{loader}: num_workers=0 with persistent_workers=True ({where}): torch '
                   'keeps no workers alive when there are none; add --cfg-options '
                   f'{loader}.persistent_workers=False')


def _scheduler_spans(cfg: Config, options: Mapping[str, Any]) -> Iterator[str]:
    """A scheduler whose ``end`` is not after its ``begin`` (mmengine: "end should be
    larger than begin", once training has started)."""
    schedulers = cfg.get('param_scheduler') or []
    schedulers = schedulers if isinstance(schedulers, (list, tuple)) else [schedulers]
    for i, scheduler in enumerate(schedulers):
        if not isinstance(scheduler, Mapping):
            continue
        begin, end = scheduler.get('begin', 0), scheduler.get('end')
        numbers = all(isinstance(v, int) and not isinstance(v, bool) for v in (begin, end))
        if numbers and end <= begin:
            key = f'param_scheduler.{i}'
            given = ' (from --cfg-options)' if any(k.startswith(key) for k in options) else ''
            yield (f'{key}: {scheduler.get("type")} ends at {end}, not after its begin '
                   f'{begin}{given}; set e.g. --cfg-options {key}.end={begin + 1} or more')
