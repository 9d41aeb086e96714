"""``--cfg-options``: every key the docs mention is accepted on the config the docs use it
with; a typo is refused with the nearest names; a word where a number belongs is refused."""
import glob
import os.path as osp
import re

import pytest
from mmengine.config import Config, DictAction

from dadf_mm.apis.config_checks import ConfigOptionError, check_cfg_options
from tests.helpers.tool_runs import DEMO, FAST_DATA, ROOT, tool_exit

PAPER = osp.join(ROOT, 'configs', 'dadf', 'dadf_vit-h_ffpp-hq.py')
ROOTS = ('model', 'train_dataloader', 'val_dataloader', 'test_dataloader', 'train_cfg',
         'val_cfg', 'test_cfg', 'optim_wrapper', 'param_scheduler', 'default_hooks',
         'env_cfg', 'visualizer', 'randomness', 'custom_hooks', 'log_processor')
KEY = rf'(?:{"|".join(ROOTS)})(?:\.\w+)+'


def documented_options(text: str) -> dict:
    """``key=value`` tokens and the keys of the docs' key tables (``| `key` | ...``)."""
    found = {}
    for key, value in re.findall(rf'(?<![\w.])({KEY})=([^\s`"\')]+)', text):
        found[key] = DictAction._parse_iterable(value)
    for key in re.findall(rf'^\| `({KEY})` \|', text, flags=re.M):
        found.setdefault(key, None)
    return found


#: the docs whose commands use the paper configs; the other pages' use the demo config
#: (the performance page's commands run benchmark_speed.py on it)
PAPER_DOCS = ('docs/training_testing.md', 'docs/inference.md', 'docs/faq.md',
              'docs/cross_dataset.md')


def docs_with_configs():
    """(doc file, the config its commands use)."""
    yield osp.join(ROOT, 'README.md'), PAPER
    for doc in sorted(glob.glob(osp.join(ROOT, 'docs', '*.md'))):
        yield doc, PAPER if osp.relpath(doc, ROOT) in PAPER_DOCS else DEMO


def test_every_documented_key_is_accepted():
    checked = set()
    for doc, config in docs_with_configs():
        cfg = Config.fromfile(config)
        for key, value in documented_options(open(doc).read()).items():
            check_cfg_options(cfg, {key: value})  # raises with the key on a refusal
            checked.add(key)
    for key in ('model.noise.mode', 'model.backbone.compute_dtype', 'model.sam_checkpoint',
                'train_dataloader.batch_size', 'custom_hooks.0.signal_check_interval',
                'model.backbone.arch.embed_dim', 'model.backbone.grad_checkpointing'):
        assert key in checked, sorted(checked)  # the extraction finds what the docs say


@pytest.mark.parametrize('key,value', [('model.noise.mode', 'jvp'),
                                       ('model.backbone.compute_dtype', 'bfloat16'),
                                       ('model.noise.generator', 'device'),
                                       ('custom_hooks.0.grad_share', True),
                                       ('model.backbone.grad_checkpointing', 2),
                                       ('default_hooks.checkpoint.save_last', False)])
def test_constructor_keywords_the_config_leaves_at_their_default_are_accepted(key, value):
    check_cfg_options(Config.fromfile(DEMO), {key: value})


@pytest.mark.parametrize('key,value,words', [
    ('model.noise.mdoe', 'jvp', ["model.noise has no key 'mdoe'", 'Did you mean mode']),
    ('model.noise_pass', 'jvp', ["model has no key 'noise_pass'"]),
    ('model.backbone.adpter.variant', 'B', ["model.backbone has no key 'adpter'",
                                            'Did you mean adapter']),
    ('model.backbone.compute_dtyp', 'bfloat16', ['Did you mean compute_dtype']),
    ('train_dataloader.batch_size', 'two', ['train_dataloader.batch_size', 'expected an integer',
                                            'the config has 8', "got str 'two'"]),
    ('train_cfg.max_iters', 20.5, ['expected an integer', 'got float 20.5']),
    ('custom_hooks.0.signal_check_interval', 'often', ['expected an integer',
                                                       'the config has 0']),
    ('custom_hooks.0.grad_share', 'yes', ['expected True or False']),
])
def test_typos_and_wrong_types_are_refused_with_the_fix(key, value, words):
    with pytest.raises(ConfigOptionError) as err:
        check_cfg_options(Config.fromfile(DEMO), {key: value})
    message = str(err.value)
    assert message.startswith(f'--cfg-options {key}')
    for word in words:
        assert word in message, message


def test_train_py_refuses_a_word_for_a_number_in_one_line(tmp_path):
    message = tool_exit('train.py', DEMO, '--work-dir', tmp_path, '--cfg-options', *FAST_DATA,
                        'train_dataloader.batch_size=two')
    assert message.startswith('train.py: --cfg-options train_dataloader.batch_size=')
    assert 'expected an integer' in message and '\n' not in message
    assert not list(tmp_path.iterdir())  # stopped before the runner wrote anything
