"""Fit the parameter schedulers to a run shortened on the command line.

``--cfg-options train_cfg.max_iters=20`` on a config that warms up for 50 iterations makes
mmengine stop with ``end should be larger than begin`` (the cosine starting at 50 gets the
run's end, 20). When a scheduler's boundaries do not fit the run, all of the run's
schedulers are scaled by (new length / the config's length), so a shortened run keeps the
shape of its schedule (warm-up fraction, then the decay); a run they fit is left alone.
"""
import logging
from typing import List, Optional, Tuple

from mmengine.config import Config
from mmengine.logging import print_log


def run_length(cfg: Config) -> Optional[Tuple[str, int]]:
    """``('iter', max_iters)`` or ``('epoch', max_epochs)`` of the training loop.

    Args:
        cfg (Config): The config.

    Returns:
        tuple[str, int] | None: The loop's unit and length; None when ``train_cfg`` sets
        neither ``max_iters`` (iteration-based) nor ``max_epochs``, or sets it to
        something other than an integer.
    """
    train_cfg = cfg.get('train_cfg') or {}
    if 'max_iters' in train_cfg and (train_cfg.get('type') == 'IterBasedTrainLoop'
                                     or train_cfg.get('by_epoch') is False):
        unit, length = 'iter', train_cfg['max_iters']
    elif 'max_epochs' in train_cfg:
        unit, length = 'epoch', train_cfg['max_epochs']
    else:
        return None
    # not a count (None, a word, 2.5): config_values reports it before the run starts
    counts = isinstance(length, int) and not isinstance(length, bool)
    return (unit, length) if counts else None


def _schedulers(cfg: Config) -> List[dict]:
    schedulers = cfg.get('param_scheduler')
    if schedulers is None:
        return []
    return list(schedulers) if isinstance(schedulers, (list, tuple)) else [schedulers]


def fit_schedule_to_run(cfg: Config, planned: Optional[Tuple[str, int]]) -> List[str]:
    """Scale ``cfg.param_scheduler``'s boundaries when they do not fit the run.

    Args:
        cfg (Config): the config after ``--cfg-options``.
        planned (tuple[str, int] | None): :func:`run_length` of the config before the
            options.

    Returns:
        list[str]: one description per scheduler changed (empty: nothing changed).
    """
    now = run_length(cfg)
    if now is None or planned is None or now[0] != planned[0]:
        return []
    unit, length = now
    mine = [s for s in _schedulers(cfg)
            if isinstance(s, dict) and ('iter' if s.get('by_epoch', True) is False
                                        else 'epoch') == unit]
    fits = all(s.get('begin', 0) < length and s.get('end', length) <= length for s in mine)
    if fits or length < 1:
        return []
    factor = length / planned[1] if planned[1] > length else 1.0

    def scale(boundary: int) -> int:  # a boundary after the start stays after it
        return 0 if boundary <= 0 else max(1, int(round(boundary * factor)))

    was = {id(s): f"{s.get('type')} {s.get('begin', 0)}-{s.get('end', 'end')}" for s in mine}
    dropped = []
    for s in mine:
        begin, end = s.get('begin', 0), s.get('end', None)
        new_begin = min(scale(begin), length - 1)
        new_end = None if end is None else max(new_begin + 1, min(scale(end), length))
        if end is not None and end - begin > 1 and new_end - new_begin == 1:
            # a ramp of one step never ramps (LinearLR applies only its start factor):
            # dropped, and the scheduler that followed it starts in its place
            dropped.append((s, new_begin, new_end))
            continue
        if 'T_max' in s and end is not None and s['T_max'] == end - begin:
            s['T_max'] = new_end - new_begin
        s['begin'] = new_begin
        if new_end is not None:
            s['end'] = new_end
    gone = [id(d[0]) for d in dropped]
    for _, gone_begin, gone_end in dropped:
        for s in mine:
            if id(s) not in gone and s['begin'] == gone_end:
                s['begin'] = gone_begin
    kept = [s for s in _schedulers(cfg) if id(s) not in gone]
    cfg.param_scheduler = kept
    changed = [f'{was[id(s)]} dropped (one step)' if id(s) in gone else
               f"{was[id(s)]} -> {s['begin']}-{s.get('end', length)}" for s in mine]
    print_log(f'param_scheduler: the run is {length} {unit}s, shorter than the schedule; '
              f'scaled by {length}/{planned[1]}: {"; ".join(changed)}', logger='current',
              level=logging.WARNING)
    return changed
