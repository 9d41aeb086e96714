"""ConstantDiscHook: the disc is fitted before training, saved in every checkpoint, read
back on --resume, handed to the validation metrics; a set without masks trains without."""
from types import SimpleNamespace

import pytest
import torch
from mmengine.runner import Runner

from dadf_mm.datasets import ForgeryFolderDataset
from dadf_mm.engine import ConstantDiscHook
from dadf_mm.evaluation import ConstantDisc, ForgeryMetric
from tests.helpers.mask_sets import LARGE, SMALL, SMALL_LARGE_DISC, write_mask_set
from tests.helpers.toy_runner import ToyModel


class ToyForgeryDataset(ForgeryFolderDataset):
    """A forgery list whose samples are the toy model's inputs."""

    def __getitem__(self, index):
        return dict(inputs=torch.tensor([float(index), 1.0]))


def make_runner(work_dir, list_file, max_iters, resume_from=None):
    torch.manual_seed(0)
    dataset = ToyForgeryDataset(data_root=str(list_file.parent), ann_file=list_file.name,
                                pipeline=[])
    return Runner(
        model=ToyModel(), work_dir=str(work_dir), custom_hooks=[ConstantDiscHook()],
        resume=resume_from is not None, load_from=resume_from,
        train_dataloader=dict(dataset=dataset, batch_size=2, collate_fn=dict(
            type='pseudo_collate'), sampler=dict(type='DefaultSampler', shuffle=False)),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=2, by_epoch=False)),
        default_scope='mmseg')


def meta(path):
    return torch.load(str(path), map_location='cpu', weights_only=True)['meta']


def test_checkpoints_carry_the_disc_and_resuming_reads_it_back(tmp_path):
    list_file = tmp_path / 'data' / 'list.jsonl'
    write_mask_set(list_file.parent, dict(small=SMALL, large=LARGE, unknown=None))
    make_runner(tmp_path / 'work', list_file, 2).train()
    assert meta(tmp_path / 'work' / 'iter_2.pth')['constant_disc'] == pytest.approx(
        SMALL_LARGE_DISC)
    # resuming a checkpoint whose disc differs from the set's keeps the checkpoint's
    checkpoint = torch.load(str(tmp_path / 'work' / 'iter_2.pth'), weights_only=True)
    checkpoint['meta']['constant_disc'] = dict(SMALL_LARGE_DISC, area=0.3)
    torch.save(checkpoint, str(tmp_path / 'marked.pth'))
    make_runner(tmp_path / 'work', list_file, 4, resume_from=str(tmp_path / 'marked.pth')).train()
    assert meta(tmp_path / 'work' / 'iter_4.pth')['constant_disc'] == pytest.approx(
        dict(SMALL_LARGE_DISC, area=0.3))


def test_a_set_without_masks_trains_without_a_disc(tmp_path, capsys):
    list_file = tmp_path / 'data' / 'list.jsonl'
    write_mask_set(list_file.parent, dict(unknown=None, other=None))
    make_runner(tmp_path / 'work', list_file, 2).train()
    assert 'constant_disc' not in meta(tmp_path / 'work' / 'iter_2.pth')
    out = capsys.readouterr().out
    assert 'only the empty-mask baseline is scored' in out and 'list.jsonl' in out


def test_the_validation_metrics_receive_the_disc(tmp_path):
    write_mask_set(tmp_path, dict(small=SMALL, large=LARGE))
    dataset = ForgeryFolderDataset(data_root=str(tmp_path), ann_file='list.jsonl', pipeline=[])
    metric, other = ForgeryMetric(), SimpleNamespace()
    runner = SimpleNamespace(train_dataloader=SimpleNamespace(dataset=dataset), val_loop=object(),
                             val_evaluator=SimpleNamespace(metrics=[other, metric]))
    ConstantDiscHook().before_train(runner)
    assert isinstance(metric.constant_disc, ConstantDisc)
    assert metric.constant_disc.to_dict() == pytest.approx(SMALL_LARGE_DISC)
    assert not hasattr(other, 'constant_disc')
