"""What tools/train.py starts from: nothing an earlier run wrote is overwritten, one run per
work dir, and a checkpoint that cannot be resumed or loaded (another model, no training
state, NaN weights, an unusable last_checkpoint) stops the run in one line naming it."""
import hashlib
import os
import signal
import subprocess
import sys

import pytest
import torch

from dadf_mm.engine import CheckpointFileError, find_resume_checkpoint, lock_work_dir
from tests.engine.conftest import training_checkpoint
from tests.helpers.tool_runs import DEMO, FAST_DATA, SHORT_RUN, tool_exit


def md5(path) -> str:
    return hashlib.md5(open(path, 'rb').read()).hexdigest()


def snapshot(folder) -> dict:
    return {p.name: md5(p) for p in folder.iterdir() if p.is_file() and p.name != '.train.lock'}


def built_state(options) -> dict:
    """The state dict of the demo model built with ``--cfg-options``-style ``options``."""
    from mmengine.config import Config
    from mmengine.registry import DefaultScope
    from mmseg.registry import MODELS
    cfg = Config.fromfile(DEMO)
    cfg.merge_from_dict({k: int(v) for k, v in (o.split('=') for o in options)})
    with DefaultScope.overwrite_default_scope('mmseg'):
        return MODELS.build(cfg.model).state_dict()


def train(work, *args, options=()) -> str:
    """tools/train.py on the demo with :data:`SHORT_RUN` (5 iterations were it to train)."""
    return tool_exit('train.py', DEMO, '--work-dir', work, *args, '--cfg-options', *FAST_DATA,
                     *SHORT_RUN, *options)


def test_resume_into_a_work_dir_with_only_a_best_checkpoint_keeps_it(demo_state, tmp_path):
    """Was: "Auto resumed from the latest checkpoint None", a fresh start, the best
    checkpoint overwritten, exit 0."""
    work = tmp_path / 'work'
    work.mkdir()
    torch.save({'meta': {'iter': 4, 'epoch': 0}, 'state_dict': demo_state},
               str(work / 'best_PBCA_iter_4.pth'))
    before = snapshot(work)
    message = train(work, '--resume')
    assert message.startswith('train.py: --resume: ') and '\n' not in message, message
    for words in ('best_PBCA_iter_4.pth', 'no checkpoint to resume from', 'load_from='):
        assert words in message, message
    assert snapshot(work) == before


def test_a_new_run_into_a_work_dir_with_checkpoints_overwrites_nothing(demo_state, tmp_path):
    work = tmp_path / 'work'
    work.mkdir()
    training_checkpoint(work / 'iter_2.pth', demo_state)
    (work / 'last_checkpoint').write_text(str(work / 'iter_2.pth'))
    before = snapshot(work)
    message = train(work)
    assert message.startswith(f'train.py: work dir {str(work)!r} holds the checkpoints'), message
    assert 'iter_2.pth' in message and '--resume' in message and '--work-dir' in message
    assert snapshot(work) == before


def test_resuming_a_best_checkpoint_is_refused(demo_state, tmp_path):
    """A best checkpoint holds no optimizer state: mmengine would resume it with a fresh
    optimizer."""
    best = tmp_path / 'best_PBCA_iter_4.pth'
    torch.save({'meta': {'iter': 4, 'epoch': 0}, 'state_dict': demo_state,
                'message_hub': {'log_scalars': {}, 'runtime_info': {}, 'resumed_keys': {}}},
               str(best))
    message = train(tmp_path / 'work', '--resume', best)
    assert message.startswith(f'train.py: --resume: checkpoint {str(best)!r} cannot be '
                              'resumed: it holds no optimizer'), message
    assert 'load_from=' in message and not list((tmp_path / 'work').glob('*.pth'))


@pytest.mark.parametrize('change', ['other adapter width', 'other neck'])
def test_resume_or_load_from_another_model_is_one_line(demo_state, tmp_path, change):
    """Was: a raw traceback from the optimizer or a KeyError; test.py and infer.py already
    said "does not fit the model"."""
    if change == 'other adapter width':  # the demo model with 16 adapter channels, not 32
        state = built_state(['model.backbone.adapter.inner_channels=16'])
        words = ['of another shape', 'backbone.adapters.0.', 'file (16,) vs model (32,)']
    else:  # a neck whose weights are under other names
        state = {k.replace('neck.', 'neck.other.', 1): v for k, v in demo_state.items()}
        words = ['keys missing', 'unexpected', 'neck.other.']
    path = training_checkpoint(tmp_path / 'other.pth', state)
    resume = change == 'other neck'  # one tool run each: --resume, load_from
    work = tmp_path / 'work'
    message = (train(work, '--resume', path) if resume else
               train(work, options=[f'load_from={path}']))
    assert message.startswith(f'train.py: checkpoint {path!r} does not fit the model'), message
    assert all(w in message for w in words) and '\n' not in message, message
    # resuming needs every key; load_from may load the matching ones on purpose
    assert ('--allow-partial-checkpoint' in message) is not resume
    assert not list(work.glob('*.pth'))


@pytest.mark.parametrize('kind', ['binary', 'folder', 'empty'])
def test_an_unusable_last_checkpoint_is_one_line_or_falls_back(demo_state, tmp_path, kind):
    """Was: UnicodeDecodeError (binary), IsADirectoryError (folder), a fresh start over the
    run's checkpoints (empty)."""
    work = tmp_path / 'work'
    work.mkdir()
    marker = work / 'last_checkpoint'
    if kind == 'binary':
        marker.write_bytes(b'\x80\x81\xfe\xff' * 8)
    elif kind == 'folder':
        marker.mkdir()
    else:
        marker.write_text('')
    torch.save({'meta': {'iter': 4, 'epoch': 0}, 'state_dict': demo_state},
               str(work / 'best_PBCA_iter_4.pth'))
    message = train(work, '--resume')
    assert message.startswith('train.py: --resume: ') and '\n' not in message, message
    assert str(marker) in message or 'best_PBCA_iter_4.pth' in message, message
    os.remove(work / 'best_PBCA_iter_4.pth')  # the marker alone: not a fresh start either
    with pytest.raises(CheckpointFileError, match='no other complete checkpoint'):
        find_resume_checkpoint(str(work))
    done = training_checkpoint(work / 'iter_2.pth', demo_state)
    assert find_resume_checkpoint(str(work)) == done  # a complete one there: resumed from


def test_a_non_finite_checkpoint_is_refused_by_every_tool(demo_state, tmp_path):
    """Was: training and test.py went on to a misleading traceback; infer.py wrote
    ``"fake_probability": NaN, "is_fake": false``."""
    state = dict(demo_state)
    key = sorted(k for k, v in state.items() if v.is_floating_point())[3]
    state[key] = state[key].clone()
    state[key].view(-1)[0] = float('nan')
    path = training_checkpoint(tmp_path / 'diverged.pth', state)
    work = ['--work-dir', tmp_path / 'work']
    for tool, args in (('test.py', [DEMO, path, *work]),
                       ('infer.py', [DEMO, path, tmp_path, '--out', tmp_path / 'out']),
                       ('web_demo.py', [DEMO, path]),
                       ('train.py', [DEMO, '--resume', path, *work]),
                       ('train.py', [DEMO, *work, '--cfg-options', f'load_from={path}'])):
        message = tool_exit(tool, *args)
        assert message.startswith(f'{tool}: ') and path in message, message
        assert 'NaN or Inf' in message and f'state_dict.{key}' in message, message
        assert '\n' not in message
    assert not (tmp_path / 'out').exists()
    assert not (tmp_path / 'work').exists()  # a refused run leaves no work dir behind
    from dadf_mm.apis.inference import ForgeryInferencer
    with pytest.raises(CheckpointFileError, match=rf'NaN or Inf .*first in state_dict\.{key}'):
        ForgeryInferencer(DEMO, path, device='cpu')  # the library, without the tools' check
    (tmp_path / 'resume').mkdir()
    os.replace(path, tmp_path / 'resume' / 'iter_2.pth')
    with pytest.raises(CheckpointFileError, match=r'--resume: .*iter_2.pth.* NaN or Inf'):
        find_resume_checkpoint(str(tmp_path / 'resume'))


HOLD = ('import fcntl, os, socket, sys, time; f = open(sys.argv[1], "a+"); '
        'fcntl.flock(f, fcntl.LOCK_EX); f.write(f"pid {os.getpid()} on {socket.gethostname()}"); '
        'f.flush(); print("held", flush=True); time.sleep(120)')


def test_a_second_run_into_a_work_dir_in_use_stops_at_once(tmp_path):
    """Was: both runs exit 0, overwriting each other's checkpoints. A killed run's lock is
    gone with it."""
    work = tmp_path / 'work'
    work.mkdir()
    holder = subprocess.Popen([sys.executable, '-c', HOLD, str(work / '.train.lock')],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == 'held'
        message = train(work)
        assert message.startswith(f'train.py: work dir {str(work)!r} is in use by another '
                                  f'training run (pid {holder.pid} on '), message
        assert '--work-dir' in message and '\n' not in message
        assert sorted(os.listdir(work)) == ['.train.lock']  # nothing else written
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    assert lock_work_dir(str(work)) is True  # the killed holder left no stale lock


def test_only_rank_zero_locks(tmp_path, monkeypatch):
    monkeypatch.setenv('RANK', '1')
    assert lock_work_dir(str(tmp_path / 'work')) is False
    assert not (tmp_path / 'work').exists()


def test_stale_temporaries_are_removed_before_the_runner_is_built(demo_state, tmp_path):
    """Was: removed only once training started, after the runner had written its log and
    config to the disk that the stale file kept full."""
    from mmengine.config import Config

    from dadf_mm.engine import prepare_training_start
    work = tmp_path / 'work'
    work.mkdir()
    done = training_checkpoint(work / 'iter_2.pth', demo_state)
    (work / 'last_checkpoint').write_text(done)
    stray = work / '.iter_4.pth.tmp-4242'
    stray.write_bytes(b'\0' * 4096)
    cfg = Config(dict(work_dir=str(work)))
    prepare_training_start(cfg, resume='auto')
    assert not stray.exists()
    assert cfg.resume is True and cfg.load_from == done
    assert dict(type='CheckpointFitHook', allow_partial=False) in cfg.custom_hooks


def test_a_work_dir_that_cannot_be_written_is_one_line(tmp_path):
    """Was: a FileExistsError / PermissionError traceback from mmengine's runner."""
    taken = tmp_path / 'a_file'
    taken.write_text('x')
    message = train(taken)
    # the run checks (preflight) find it first, among the other problems of the run
    assert message.startswith(f'train.py: work dir {str(taken)!r} is a file, not a folder'), \
        message
    assert '--work-dir' in message and taken.read_text() == 'x'
