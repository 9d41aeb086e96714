"""A crash at any point of checkpoint saving leaves a checkpoint that last_checkpoint names
and that resumes to the uninterrupted run's weights (AtomicCheckpointHook); mmengine's own
hook, with max_keep_ckpts=1, leaves nothing to resume from."""
import errno
import itertools
import os
import os.path as osp
from typing import List, Optional, Tuple

import pytest
import torch
from mmengine.evaluator import BaseMetric, Evaluator
from mmengine.fileio.backends import LocalBackend
from mmengine.runner import Runner

from dadf_mm.engine import CheckpointFileError, WorkDirError, find_resume_checkpoint
from tests.helpers.toy_runner import ToyDataset, ToyModel


class Crash(BaseException):
    """Stands for the kill: nothing after it runs (BaseException passes ``except Exception``)."""


class RisingScore(BaseMetric):
    """A validation score that rises at every evaluation: each one saves a new best."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def process(self, data_batch, data_samples) -> None:
        self.results.append(0)

    def compute_metrics(self, results) -> dict:
        self.calls += 1
        return dict(score=float(self.calls))


_runs = itertools.count()


def make_runner(work_dir, hook_type='AtomicCheckpointHook', resume=False) -> Runner:
    torch.manual_seed(0)
    # a name of its own: runners made in the same second would share one MessageHub
    name = f'{osp.basename(str(work_dir))}-{next(_runs)}'
    loader = dict(dataset=ToyDataset(), batch_size=2, collate_fn=dict(type='pseudo_collate'),
                  sampler=dict(type='InfiniteSampler', shuffle=True))  # no restart pause
    return Runner(
        model=ToyModel(), work_dir=str(work_dir), resume=resume, experiment_name=name,
        default_scope='mmseg',  # where AtomicCheckpointHook is registered
        load_from=find_resume_checkpoint(str(work_dir)) if resume else None,
        train_dataloader=loader, val_dataloader={**loader, 'sampler': dict(
            type='DefaultSampler', shuffle=False)},
        val_evaluator=Evaluator([RisingScore()]), val_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=0.01)),
        param_scheduler=dict(type='CosineAnnealingLR', T_max=6, by_epoch=False),
        train_cfg=dict(by_epoch=False, max_iters=6, val_interval=2),
        default_hooks=dict(checkpoint=dict(type=hook_type, interval=2, by_epoch=False,
                                           max_keep_ckpts=1, save_best='score', rule='greater')),
        randomness=dict(seed=0, deterministic=True))


def crash_at(monkeypatch, point: Optional[Tuple[str, int]], log: List[str]) -> None:
    """Raise :class:`Crash` at the ``n``-th event of a kind: ``write`` (a checkpoint file half
    written), ``rename`` (before ``os.replace``), ``remove`` (before removing a checkpoint)."""
    counts = {}

    def event(kind: str) -> bool:
        log.append(kind)
        counts[kind] = counts.get(kind, 0) + 1
        return point == (kind, counts[kind])

    real_put, real_replace, real_remove = LocalBackend.put, os.replace, os.remove

    def put(self, obj, filepath):
        if '.pth' in osp.basename(str(filepath)) and event('write'):
            real_put(self, obj[:len(obj) // 2], filepath)
            raise Crash('write')
        real_put(self, obj, filepath)

    def replace(src, dst, *args, **kwargs):
        if event('rename'):
            raise Crash('rename')
        real_replace(src, dst, *args, **kwargs)

    def remove(path, *args, **kwargs):
        if str(path).endswith('.pth') and event('remove'):
            raise Crash('remove')
        real_remove(path, *args, **kwargs)

    monkeypatch.setattr(LocalBackend, 'put', put)
    monkeypatch.setattr(os, 'replace', replace)
    monkeypatch.setattr(os, 'remove', remove)


def loads(path: str) -> bool:
    try:
        torch.load(path, map_location='cpu', weights_only=True)
        return True
    except Exception:  # noqa: B902
        return False


def test_mmengine_hook_loses_the_only_checkpoint(tmp_path, monkeypatch):
    """Why AtomicCheckpointHook exists (mmengine 0.10.7): a crash while iter_4.pth is written
    (iter_2.pth already deleted) leaves last_checkpoint naming the deleted file; one while
    best_score_iter_4.pth is written (best_score_iter_2.pth already deleted) leaves no best.
    Writes: iter_2, best_2, iter_2 again, iter_4, best_4."""
    with monkeypatch.context() as patch:
        crash_at(patch, ('write', 4), [])
        with pytest.raises(Crash):
            make_runner(tmp_path / 'a', hook_type='CheckpointHook').train()
    named = open(tmp_path / 'a' / 'last_checkpoint').read().strip()
    assert osp.basename(named) == 'iter_2.pth' and not osp.exists(named)
    assert not loads(str(tmp_path / 'a' / 'iter_4.pth'))
    crash_at(monkeypatch, ('write', 5), [])
    with pytest.raises(Crash):
        make_runner(tmp_path / 'b', hook_type='CheckpointHook').train()
    bests = sorted((tmp_path / 'b').glob('best_*.pth'))
    assert bests and not any(loads(str(p)) for p in bests), [(p, p.stat().st_size) for p in bests]


def test_a_crash_at_any_point_of_saving_resumes_to_the_same_weights(tmp_path, monkeypatch):
    events: List[str] = []
    with monkeypatch.context() as patch:
        crash_at(patch, None, events)
        reference = make_runner(tmp_path / 'reference')
        reference.train()
    assert events.count('write') >= 9 and events.count('remove') >= 2  # bests swapped too
    points = [(kind, events[:i + 1].count(kind)) for i, kind in enumerate(events)]
    for kind, n in points:
        work = tmp_path / f'{kind}{n}'
        seen: List[str] = []
        with monkeypatch.context() as patch:
            crash_at(patch, (kind, n), seen)
            with pytest.raises(Crash):
                make_runner(work).train()
        files = sorted(os.listdir(work))
        last = work / 'last_checkpoint'
        if last.exists():  # it names a complete checkpoint
            assert loads(open(last).read().strip()), (kind, n, files)
        assert all(loads(str(work / f)) for f in files if f.endswith('.pth')), (kind, n, files)
        if any(f.startswith('best_') for f in os.listdir(tmp_path / 'reference')) and \
                seen.count('write') > 2:  # a best checkpoint was complete before the crash
            assert any(f.startswith('best_') and f.endswith('.pth') for f in files), files
        resumed = make_runner(work, resume=True)
        resumed.train()
        assert resumed.iter == 6
        assert not [f for f in os.listdir(work) if '.tmp-' in f]  # strays removed
        for (name, a), b in zip(reference.model.named_parameters(),
                                resumed.model.parameters()):
            assert torch.equal(a, b), (kind, n, name)


def test_a_full_disk_during_a_save_leaves_no_partial_file_and_resumes(tmp_path, monkeypatch):
    """Was: the partial temporary file stayed (holding the space the disk lacked) and the
    error was a traceback."""
    reference = make_runner(tmp_path / 'reference')
    reference.train()
    real_put = LocalBackend.put

    def put(self, obj, filepath):
        if 'iter_4.pth' in osp.basename(str(filepath)):  # the disk fills up half-way
            real_put(self, obj[:len(obj) // 2], filepath)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(filepath))
        real_put(self, obj, filepath)

    work = tmp_path / 'full'
    with monkeypatch.context() as patch:
        patch.setattr(LocalBackend, 'put', put)
        with pytest.raises(CheckpointFileError) as err:
            make_runner(work).train()
    message = str(err.value)
    assert '\n' not in message and 'iter_4.pth' in message, message
    assert os.strerror(errno.ENOSPC) in message and '--resume' in message, message
    assert not [f for f in os.listdir(work) if '.tmp-' in f], os.listdir(work)
    assert open(work / 'last_checkpoint').read().strip() == str(work / 'iter_2.pth')
    assert loads(str(work / 'iter_2.pth'))
    resumed = make_runner(work, resume=True)
    resumed.train()
    assert resumed.iter == 6
    for (name, a), b in zip(reference.model.named_parameters(), resumed.model.parameters()):
        assert torch.equal(a, b), name


def test_a_new_run_does_not_overwrite_an_earlier_runs_checkpoints(tmp_path):
    make_runner(tmp_path / 'work').train()
    before = {f: open(tmp_path / 'work' / f, 'rb').read() for f in os.listdir(tmp_path / 'work')
              if f.endswith('.pth') or f == 'last_checkpoint'}
    assert any(f.startswith('best_') for f in before)
    with pytest.raises(WorkDirError, match='holds the checkpoints of an earlier run'):
        make_runner(tmp_path / 'work').train()
    after = {f: open(tmp_path / 'work' / f, 'rb').read() for f in before}
    assert after == before
