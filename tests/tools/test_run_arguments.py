"""Run arguments that mmengine, torch or argparse took and failed on later (a traceback
after the config and hook tables, or a run that trains nothing): each now stops
tools/train.py and tools/test.py with one line naming the key and a value that works,
before the runner is built, and nothing is written."""
import pytest
from mmengine.config import Config

from dadf_mm.apis.config_checks import ConfigOptionError, apply_cfg_options
from tests.helpers.tool_runs import DEMO, FAST_DATA, tool_exit

from cfg_options import parse_cfg_option
from config_values import config_value_problems

# option -> words of its one line. Before: max_iters=0 and checkpoint.interval=0 ended in
# "end should be larger than begin" / ZeroDivisionError tracebacks, val_interval=0 and
# logger.interval=0 in ZeroDivisionError, batch_size=0 and num_workers=-1 in torch's
# DataLoader ValueError, lr<0 in AdamW's "Invalid learning rate", max_iters=True trained one
# iteration, a dict(...) value became a string (or RecursionError inside argparse for one
# with a comma), KEY without = a ValueError in argparse, [128,128 an AssertionError.
TRAIN_CASES = {
    'train_cfg.max_iters=0': ['iterations to train', 'at least 1',
                              'train_cfg.max_iters=1500'],
    'train_cfg.max_iters=-5': ['at least 1', 'train_cfg.max_iters=1500'],
    'train_cfg.val_interval=0': ['between validations', 'at least 1',
                                 'train_cfg.val_interval=250'],
    'train_dataloader.batch_size=0': ['samples per batch', 'train_dataloader.batch_size=8'],
    'train_dataloader.num_workers=-1': ['at least 0', 'train_dataloader.num_workers=2'],
    'optim_wrapper.optimizer.lr=-0.001': ['learning rate', 'at least 0',
                                          'optim_wrapper.optimizer.lr=0.0003'],
    'optim_wrapper.optimizer.weight_decay=-1.0': ['weight decay', 'at least 0'],
    'default_hooks.checkpoint.interval=0': ['between checkpoints', "(or -1)"],
    'default_hooks.logger.interval=0': ['between log lines', 'logger.interval=20'],
    'param_scheduler.0.warmup_start_factor=0.0': ['starting factor of the warm-up',
                                                  'above 0 and at most 1'],
    'param_scheduler.0.warmup_ratio=1.5': ["the warm-up's share of the run", 'at most 1'],
    'train_cfg.max_iters=True': ['expected an integer', 'got bool True',
                                 'train_cfg.max_iters=1500'],
    'train_cfg.max_iters=1e3': ['expected an integer', 'got float 1000.0'],
    'train_cfg.max_iters=None': ['must be an integer of at least 1'],
    # a dict where the config has a number is a value of the wrong type
    'model.noise.std=dict(a=1)': ['expected a number', "got str 'dict(a=1)'",
                                  'model.noise.std=0.001'],
    'model.backbone.adapter=dict(variant=B,inner_channels=16)': [
        'a dict cannot be given as one value', 'model.backbone.adapter.variant=B',
        'model.backbone.adapter.inner_channels=16'],
    'model.neck=dict(type=RGANeck,channels=128)': [
        'a dict cannot be given', 'model.neck.type=RGANeck', 'model.neck.channels=128'],
    # the demo's L_seg is a list of two losses: one dict in its place is the wrong type
    'model.decode_head.loss_decode=dict(type=CrossEntropyLoss,loss_weight=2.0)': [
        'expected a list', 'model.decode_head.loss_decode=[VALUE]'],
    "model.backbone.adapter={'variant': 'B'}": ['a dict cannot be given',
                                                'model.backbone.adapter.variant='],
    'model.backbone=2': ['expected a dict', 'model.backbone.type=VALUE'],
    'train_dataloader.dataset.traces=noise': ['expected a list',
                                              'train_dataloader.dataset.traces=[VALUE]'],
    'train_cfg.max_iters': ['not KEY=VALUE'],
    'model.data_preprocessor.size=[128,128': ['cannot be read', 'close every ( and ['],
    'train_cfg.max_iters=[1': ['expected an integer', "got str '[1'"],
    'param_scheduler.0.begin=-3': ['first step of the scheduler', 'at least 0'],
}


@pytest.mark.parametrize('option', sorted(TRAIN_CASES))
def test_train_py_stops_a_bad_value_in_one_line_before_the_runner(tmp_path, option):
    work = tmp_path / 'work'
    message = tool_exit('train.py', DEMO, '--work-dir', work, '--cfg-options', *FAST_DATA,
                        option)
    assert message.startswith('train.py: --cfg-options '), message
    assert '\n' not in message and option.split('=')[0] in message, message
    for words in TRAIN_CASES[option]:
        assert words in message, message
    assert not work.exists()  # stopped before the runner made its work dir


def test_num_workers_0_with_persistent_workers_names_the_other_key(tmp_path):
    """Was: torch's "persistent_workers option needs num_workers > 0" once training began."""
    message = tool_exit('train.py', DEMO, '--work-dir', tmp_path / 'work', '--cfg-options',
                        'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
                        'val_dataloader.persistent_workers=False')
    assert message == ('train.py: train_dataloader: num_workers=0 with persistent_workers=True '
                       '(--cfg-options train_dataloader.num_workers): torch keeps no workers '
                       'alive when there are none; add --cfg-options '
                       'train_dataloader.persistent_workers=False')
    assert not (tmp_path / 'work').exists()


def test_every_problem_is_reported_together_one_line_each(tmp_path):
    message = tool_exit('train.py', DEMO, '--work-dir', tmp_path / 'work', '--cfg-options',
                        *FAST_DATA, 'train_cfg.max_iters=0', 'train_dataloader.batch_size=0',
                        'val_dataloader.num_workers=-2')
    lines = message.splitlines()
    assert len(lines) == 3 and all(line.startswith('train.py: --cfg-options ') for line in lines)
    assert [line.split()[2].split('=')[0] for line in lines] == [
        'train_cfg.max_iters', 'train_dataloader.batch_size', 'val_dataloader.num_workers']


def test_test_py_checks_its_own_dataloader(short_demo_run, tmp_path):
    """Was: torch's DataLoader ValueError after the whole config was printed."""
    message = tool_exit('test.py', DEMO, short_demo_run.work_dir / 'iter_5.pth', '--work-dir',
                        tmp_path / 'work', '--cfg-options', *FAST_DATA,
                        'test_dataloader.batch_size=0', 'train_cfg.max_iters=0')
    # train_cfg is not read by a test run: only the test dataloader's value is refused
    assert message == ('test.py: --cfg-options test_dataloader.batch_size=0: samples per '
                       'batch (per process) must be an integer of at least 1; set e.g. '
                       '--cfg-options test_dataloader.batch_size=8')
    assert not (tmp_path / 'work').exists()


def test_a_config_file_value_is_named_as_the_config_s():
    cfg = Config.fromfile(DEMO)
    cfg.train_cfg.val_interval = 0
    assert config_value_problems(cfg, loaders=['train_dataloader'], train=True) == [
        'train_cfg.val_interval=0 in the config: iterations (epochs) between validations '
        'must be an integer of at least 1; set e.g. --cfg-options '
        'train_cfg.val_interval=1000']


@pytest.mark.parametrize('key,value', [
    ('train_cfg.val_interval', 5000),  # larger than max_iters: the last iteration validates
    ('default_hooks.checkpoint.interval', -1), ('default_hooks.checkpoint.max_keep_ckpts', -1),
    ('optim_wrapper.optimizer.lr', 0), ('train_dataloader.num_workers', 0)])
def test_values_that_work_are_accepted(key, value):
    cfg = Config.fromfile(DEMO)
    cfg.merge_from_dict({key: value, 'train_dataloader.persistent_workers': False})
    assert config_value_problems(cfg, loaders=['train_dataloader', 'val_dataloader'],
                                 train=True) == []


@pytest.mark.parametrize('text,expected', [
    ('a.b=1', ('a.b', 1)), ('a=[1,2]', ('a', [1, 2])), ('a=(1,2)', ('a', (1, 2))),
    ('a=x,y', ('a', ['x', 'y'])), ('a=None', ('a', None)), ('a=b=c', ('a', 'b=c')),
    ('a=', ('a', ''))])
def test_values_are_read_as_mmengine_reads_them(text, expected):
    assert parse_cfg_option(text) == expected


def test_a_dict_value_is_never_merged_as_text():
    cfg = Config.fromfile(DEMO)
    key, value = parse_cfg_option('default_hooks.checkpoint=dict()')
    with pytest.raises(ConfigOptionError) as err:
        apply_cfg_options(cfg, {key: value})
    assert 'default_hooks.checkpoint.SUBKEY=VALUE' in str(err.value)
    with pytest.raises(ConfigOptionError) as err:  # a key of its own: still refused
        apply_cfg_options(cfg, dict([parse_cfg_option('new_key={"a": 1}')]),
                          allow_new_keys=True)
    assert 'e.g. --cfg-options new_key.a=1' in str(err.value)
    assert cfg.default_hooks.checkpoint.type == 'AtomicCheckpointHook'


def test_the_memory_estimate_waits_for_values_in_range(tmp_path):
    """Was (with a GPU, or --device-memory): "stack expects a non-empty TensorList" from
    the estimate of a batch of 0, before any other check."""
    message = tool_exit('train.py', DEMO, '--device-memory', '24', '--work-dir',
                        tmp_path / 'work', '--cfg-options', *FAST_DATA,
                        'train_dataloader.batch_size=0')
    assert message == ('train.py: --cfg-options train_dataloader.batch_size=0: samples per '
                       'batch (per process) must be an integer of at least 1; set e.g. '
                       '--cfg-options train_dataloader.batch_size=8')
