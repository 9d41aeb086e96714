"""docs/add_a_model_part.md, tried: its config (the demo around mmseg's own
VisionTransformer) is the file it names, and tools/train.py trains it. Before, the tools
added an input-size check that stopped a stock backbone at the first batch with "'>' not
supported between instances of 'int' and 'tuple'" (its img_size is a pair)."""
import os.path as osp
import re
import sys

import torch

from tests.helpers.tool_runs import FAST_DATA, ROOT, run_process

PAGE = osp.join(ROOT, 'docs', 'add_a_model_part.md')
CONFIG = osp.join(ROOT, 'configs', 'examples', 'dadf_mmseg-vit_synthetic-demo.py')


def test_the_page_shows_the_config_as_it_is_and_its_links_exist():
    page = open(PAGE).read()
    assert open(CONFIG).read() in re.findall(r'```python\n(.*?)```', page, flags=re.S)
    for link in re.findall(r'\]\(([^)#]+)\)', page):
        assert osp.exists(osp.join(ROOT, 'docs', link)), link


def test_the_pages_config_trains_two_iterations(tmp_path):
    work = tmp_path / 'work'
    proc = run_process(
        [sys.executable, 'tools/train.py', CONFIG, '--work-dir', str(work), '--cfg-options',
         *FAST_DATA, 'train_cfg.max_iters=2', 'train_dataloader.batch_size=2',
         'train_dataloader.dataset.num_samples=16', 'val_dataloader.batch_size=2',
         'val_dataloader.dataset.num_samples=4', 'default_hooks.visualization.draw=False'],
        env=dict(OMP_NUM_THREADS='1'), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    state = torch.load(str(work / 'iter_2.pth'), map_location='cpu',
                       weights_only=True)['state_dict']
    # mmseg's VisionTransformer (its own parameter names), 256 channels into RGA
    assert state['backbone.patch_embed.projection.weight'].shape == (256, 3, 16, 16)
    assert not any('adapter' in key for key in state)
    assert state['neck.enhancer.weight'].shape[:2] == (256, 256)
