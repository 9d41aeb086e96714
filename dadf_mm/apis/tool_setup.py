"""What tools/train.py and tools/test.py share: runner arguments and config loading."""
import argparse
import os
import os.path as osp
import sys

from mmengine.config import Config, DictAction

from ..engine import prepare_cpu_distributed
from .config_checks import apply_cfg_options


def add_runner_arguments(parser: argparse.ArgumentParser) -> None:
    """``--work-dir``, ``--cfg-options``, ``--allow-new-keys``, ``--launcher``, ``--local-rank``."""
    parser.add_argument('--work-dir', help='where logs, checkpoints and metrics go '
                        '(default: work_dirs/<config name>)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys, e.g. model.sam_checkpoint=PATH')
    parser.add_argument('--allow-new-keys', action='store_true',
                        help='let --cfg-options add keys the config does not have')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_config(args: argparse.Namespace, tool: str) -> Config:
    """The config of ``args.config`` with the runner arguments applied (and, for several
    processes without GPUs, a gloo process group); exits with one message naming the file
    when it does not exist."""
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    if not osp.isfile(args.config):
        sys.exit(f'{tool}: config file {args.config!r} not found')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    try:
        apply_cfg_options(cfg, args.cfg_options, args.allow_new_keys)
    except KeyError as err:
        sys.exit(f'{tool}: {err.args[0]}')
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    prepare_cpu_distributed(cfg)
    return cfg
