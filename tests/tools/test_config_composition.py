"""Composing this project's configs with stock mmseg ones, as docs/training_testing.md
shows: the example config (configs/examples/) loads, holds the keys of both sides, and
trains on a tiny variant under mmengine's Runner."""
import os.path as osp
import re

import pytest
from mmengine.config import Config

from tests.helpers.tool_runs import DEMO, ROOT

EXAMPLE = osp.join(ROOT, 'configs', 'examples', 'dadf_vit-b_ffpp-hq_mmseg-poly-20k.py')


def test_the_docs_show_the_example_as_it_is():
    readme = open(osp.join(ROOT, 'docs', 'training_testing.md')).read()
    blocks = re.findall(r'```python\n(.*?)```', readme, flags=re.S)
    assert open(EXAMPLE).read() in blocks
    assert 'configs/examples/dadf_vit-b_ffpp-hq_mmseg-poly-20k.py' in readme


def test_a_whole_dadf_config_next_to_an_mmseg_schedule_is_refused(tmp_path):
    # why the example takes the parts: both bases define the schedule's keys
    path = tmp_path / 'both.py'
    path.write_text("_base_ = ['mmseg::_base_/schedules/schedule_20k.py', "
                    f"{osp.join(ROOT, 'configs', 'dadf', 'dadf_vit-b_ffpp-hq.py')!r}]\n")
    with pytest.raises(KeyError, match='Duplicate key is not allowed among bases'):
        Config.fromfile(str(path))


def test_the_example_holds_the_mmseg_schedule_and_the_dadf_parts():
    cfg = Config.fromfile(EXAMPLE)
    assert cfg.train_cfg.type == 'IterBasedTrainLoop' and cfg.train_cfg.max_iters == 20000
    assert cfg.train_cfg.val_interval == 2000 and cfg.val_cfg.type == 'ValLoop'
    assert [s.type for s in cfg.param_scheduler] == ['PolyLR']
    # no end of its own: the runner ends the decay at train_cfg.max_iters
    assert 'end' not in cfg.param_scheduler[0] and cfg.param_scheduler[0].eta_min == 1e-7
    optimizer = cfg.optim_wrapper.optimizer
    assert optimizer.type == 'AdamW' and optimizer.lr == 2e-4
    assert 'momentum' not in optimizer  # _delete_: nothing of the SGD merged in
    assert cfg.model.type == 'DADF' and cfg.model.backbone.arch == 'vit_b'
    assert cfg.model.sam_checkpoint == 'checkpoints/sam_vit_b_01ec64.pth'
    assert cfg.train_dataloader.dataset.type == 'FFPPDataset'
    assert cfg.custom_imports['imports'] == ['dadf_mm']
    assert cfg.log_processor.by_epoch is False
    checkpoint = cfg.default_hooks.checkpoint
    assert (checkpoint.type, checkpoint.interval, checkpoint.save_best) == \
        ('AtomicCheckpointHook', 2000, 'PBCA')


def test_the_example_trains_on_a_tiny_variant(tmp_path):
    """The example's schedule, optimizer and hooks run under Runner.from_cfg: 2 iterations
    of the demo's small model on synthetic data, a validation, the best checkpoint."""
    from mmengine.runner import Runner
    cfg = Config.fromfile(EXAMPLE)
    demo = Config.fromfile(DEMO)
    cfg.model = demo.model
    fast = dict(batch_size=2, num_workers=0, persistent_workers=False)
    cfg.train_dataloader = dict(demo.train_dataloader, **fast)
    cfg.train_dataloader.dataset.num_samples = 8
    cfg.val_dataloader = dict(demo.val_dataloader, **fast)
    cfg.val_dataloader.dataset.num_samples = 4
    cfg.test_dataloader = cfg.val_dataloader
    cfg.train_cfg.max_iters = 2
    cfg.train_cfg.val_interval = 2
    cfg.default_hooks.visualization.draw = False
    cfg.work_dir = str(tmp_path)
    runner = Runner.from_cfg(cfg)
    runner.train()
    assert runner.iter == 2
    assert type(runner.optim_wrapper.optimizer).__name__ == 'AdamW'
    lr = runner.optim_wrapper.get_lr()['lr'][0]
    # the decay ends with the run (the runner's end, 2), not at 20000: down to eta_min
    assert lr == pytest.approx((2e-4 - 1e-7) * (1 - 2 / 2) ** 0.9 + 1e-7, rel=1e-6)
    assert (tmp_path / 'best_PBCA_iter_2.pth').is_file()
