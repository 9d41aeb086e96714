"""Not a program: what the programs in tools/ (train.py, test.py, infer.py, web_demo.py,
demo_showcase.py, download_sam_checkpoints.py) share: runner arguments, config loading,
and one error line instead of a traceback for a wrong input.

Python puts a script's own folder first on its import path, so ``python tools/train.py``
imports this file as ``tool_setup``; the library (``dadf_mm``) takes no command-line
arguments."""
import argparse
import math
import os
import os.path as osp
import sys
import traceback
from typing import Any, Callable, List, Optional, Sequence, Tuple

from mmengine.config import Config

from dadf_mm.apis.config_checks import ConfigOptionError, apply_cfg_options
from dadf_mm.apis.devices import checked_device
from dadf_mm.datasets.errors import ForgeryDataError
from dadf_mm.engine import CheckpointFileError, InputSizeError, prepare_cpu_distributed
from dadf_mm.engine.non_finite_loss_hook import NonFiniteLossError
from dadf_mm.models.utils.sam_checkpoint import SAMCheckpointError

from cfg_options import ConfigOptionsAction
from config_values import value_at
from preflight_checks import PreflightError, preflight_problems

#: errors whose message already names the file or key, what is wrong and the fix
USER_ERRORS = (CheckpointFileError, SAMCheckpointError, ConfigOptionError, InputSizeError,
               ForgeryDataError, NonFiniteLossError, PreflightError)


class ToolError(RuntimeError):
    """A wrong input found by a tool; its message is the whole report."""


def one_line(err: BaseException) -> str:
    """An exception's message on one line."""
    text = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
    return ' '.join(str(text).split()) or type(err).__name__


def run_tool(main: Callable[[], None], tool: str) -> None:
    """Run a tool's ``main``; a wrong input ends as one line ``<tool>: <message>`` on stderr
    (one per problem of a :class:`PreflightError`) with exit status 1 (``DADF_TRACEBACK=1``
    prints the traceback too)."""
    try:
        main()
    except (ToolError, *USER_ERRORS) as err:
        if os.environ.get('DADF_TRACEBACK'):
            traceback.print_exc()
        lines = [' '.join(line.split()) for line in getattr(err, 'problems', ())]
        sys.exit('\n'.join(f'{tool}: {line}' for line in lines or [one_line(err)]))


def building(what: str, build: Callable):
    """``build()``, with a value or type error of the config (raised by a constructor,
    e.g. ``SAMViT``'s checks) turned into a :class:`ToolError` naming ``what``."""
    try:
        return build()
    except (ValueError, TypeError, AssertionError) as err:
        if isinstance(err, USER_ERRORS):
            raise
        raise ToolError(f'{what}: {one_line(err)}') from err


def add_config_arguments(parser: argparse.ArgumentParser, *,
                         checkpoint: bool = False) -> None:
    """``--cfg-options``, ``--allow-new-keys`` and, with ``checkpoint``,
    ``--allow-partial-checkpoint``."""
    parser.add_argument('--cfg-options', nargs='+', action=ConfigOptionsAction, default={},
                        help='override config keys, e.g. model.sam_checkpoint=PATH')
    parser.add_argument('--allow-new-keys', action='store_true',
                        help='let --cfg-options add keys the config does not have')
    if checkpoint:
        parser.add_argument('--allow-partial-checkpoint', action='store_true',
                            help="run even when the checkpoint lacks some of the model's "
                            'weights (they keep their initial values)')


def add_runner_arguments(parser: argparse.ArgumentParser, *, checkpoint: bool = False
                         ) -> None:
    """``--work-dir``, ``--cfg-options``, ``--allow-new-keys``, ``--launcher``,
    ``--local-rank`` and, with ``checkpoint``, ``--allow-partial-checkpoint``."""
    parser.add_argument('--work-dir', help='where logs, checkpoints and metrics go '
                        '(default: work_dirs/<config name>)')
    add_config_arguments(parser, checkpoint=checkpoint)
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
    # the config file's own values of the option keys, offered as fixes by preflight()
    args.config_defaults = {key: value_at(cfg, key) for key in args.cfg_options}
    try:
        apply_cfg_options(cfg, args.cfg_options, args.allow_new_keys)
    except KeyError as err:
        sys.exit(f'{tool}: {one_line(err)}')
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])
    prepare_cpu_distributed(cfg)
    return cfg


# argument checks shared by the tools: a wrong value ends as one line naming the argument


class ToolArgumentParser(argparse.ArgumentParser):
    """argparse's parser whose errors (a missing or wrong argument) end as one
    ``<tool>: argument --x: ...`` line through :func:`run_tool`, exit status 1, instead of
    the usage text and exit status 2."""

    def error(self, message: str):
        raise ToolError(f'{message} (see python tools/{self.prog} --help)')


def _as_int(text: str) -> int:
    """``int(text)``, 0 for what is not a whole number (every range check then fails)."""
    try:
        return int(text)
    except ValueError:
        return 0


def positive_int(text: str) -> int:
    """An argparse type: a whole number of 1 or more."""
    value = _as_int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f'must be a whole number of 1 or more, not {text!r}')
    return value


def _as_float(text: str) -> float:
    """``float(text)``, nan for what is not a number (every range check then fails)."""
    try:
        return float(text)
    except ValueError:
        return math.nan


def positive_float(text: str) -> float:
    """An argparse type: a finite number above 0."""
    value = _as_float(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f'must be a number above 0, not {text!r}')
    return value


def probability(text: str) -> float:
    """An argparse type: a number from 0 to 1 (not nan or inf)."""
    value = _as_float(text)
    if not 0 <= value <= 1:  # false for nan
        raise argparse.ArgumentTypeError(f'must be a number from 0 to 1 (e.g. 0.5), not '
                                         f'{text!r}')
    return value


def port(text: str) -> int:
    """An argparse type: a TCP port, 1 to 65535."""
    value = _as_int(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f'must be a port from 1 to 65535 (e.g. 7860), not '
                                         f'{text!r}')
    return value


def device(text: str) -> str:
    """An argparse type: a torch device this machine has (``cpu``, ``cuda``, ``cuda:N``)."""
    try:
        return checked_device(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from err


def checkpoint_file(path: str) -> str:
    """The checkpoint ``path`` names: the file itself, or the one to use in a training work
    dir (:func:`dadf_mm.engine.resolve_checkpoint`); a :class:`ToolError` when there is
    none."""
    from dadf_mm.engine import resolve_checkpoint
    try:
        return resolve_checkpoint(path)
    except FileNotFoundError as err:
        raise ToolError(str(err)) from err


def _run_inputs(cfg: Config, args: argparse.Namespace, train: bool):
    """The dataloaders a run builds and the ``(what, path)`` of the checkpoints it loads."""
    if not train:
        return ['test_dataloader'], [('checkpoint file', args.checkpoint)]
    loaders = ['train_dataloader']
    if cfg.get('val_cfg') and cfg.get('val_dataloader'):
        loaders.append('val_dataloader')
    resume = getattr(args, 'resume', None)
    if resume not in (None, 'auto'):
        return loaders, [('--resume checkpoint', resume)]
    load_from = cfg.get('load_from')
    if resume is None and isinstance(load_from, str) and load_from:
        return loaders, [('load_from checkpoint', load_from)]
    return loaders, []


def preflight(cfg: Config, args: argparse.Namespace, *, train: bool,
              problems: Sequence[str] = (),
              estimates: Sequence[Callable[[], List[str]]] = ()) -> None:
    """Check a run of train.py (``train``) or test.py before its runner starts (and prints
    its config): the config's values, the data lists, the SAM checkpoint and the checkpoint
    files it loads, the work dir. Raises one :class:`PreflightError` listing every problem
    found, then ``problems`` and those of ``estimates``; nothing is written.

    Args:
        cfg (Config): The config of :func:`load_config`.
        args (argparse.Namespace): The tool's arguments (``cfg_options``, ``resume`` or
            ``checkpoint``).
        train (bool): A training run (else a test run).
        problems (Sequence[str]): The tool's own problems (e.g. its output folder).
            Defaults to ().
        estimates (Sequence[Callable[[], list[str]]]): The tool's checks that compute with
            the config's values (the memory estimate), run when those are in range.
            Defaults to ().
    """
    loaders, checkpoints = _run_inputs(cfg, args, train)
    found = preflight_problems(
        cfg, loaders=loaders, train=train, checkpoints=checkpoints,
        options=args.cfg_options, defaults=getattr(args, 'config_defaults', None),
        extra=problems, estimates=estimates)
    if found:
        raise PreflightError(found)


def build_test_runner(cfg: Config, args: argparse.Namespace, checkpoint: str):
    """The runner of a test of ``cfg`` with ``checkpoint``, which mmengine loads at the first
    ``runner.test()``. mmengine loads non-strictly: a file of another model would be tested
    at random init, so the file's keys and shapes are checked against the model first (the
    file is mapped, not read).

    Args:
        cfg (Config): The config of :func:`load_config`; its ``load_from`` is set.
        args (argparse.Namespace): The tool's arguments (``config``,
            ``allow_partial_checkpoint``).
        checkpoint (str): The checkpoint file.

    Returns:
        tuple: The runner and the checkpoint's content (its meta may carry the constant
        disc).
    """
    from mmengine.model import is_model_wrapper
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner

    from dadf_mm.engine import check_state_fits, read_checkpoint
    from dadf_mm.engine.checkpoint_fit import checkpoint_state_dict
    cfg.load_from = checkpoint
    runner = building(f'building the model of {args.config}', lambda: (
        Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)))
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    state = read_checkpoint(checkpoint, check_finite=False)
    check_state_fits(model, checkpoint_state_dict(state), checkpoint,
                     allow_partial=args.allow_partial_checkpoint)
    return runner, state


def decide_for_test(runner: Any, state: Any, given: Optional[float], tool: str
                    ) -> Tuple[float, Optional[float]]:
    """The test's decision threshold, set on the model: ``given`` (the user's), else the
    one calibrated on the validation set and stored in the checkpoint, else 0.5; one log
    line says which. Every tool that tests a checkpoint decides through this, so their
    predictions and masks agree with ``tools/test.py``'s.

    Args:
        runner (Any): The runner of :func:`build_test_runner`.
        state (Any): The checkpoint's content.
        given (float, optional): The user's threshold (None: none given).
        tool (str): The tool's name in the log line.

    Returns:
        tuple: The threshold decided at, and the checkpoint's calibrated threshold for
        ``ACC@calibrated`` (None where it has none).
    """
    from mmengine.logging import print_log
    from mmengine.model import is_model_wrapper

    from dadf_mm.engine import calibration_from_checkpoint, decide_at_threshold
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    decision = decide_at_threshold(model, state, given)
    print_log(f'{tool}: {decision.description}', logger='current')
    calibration = calibration_from_checkpoint(state)
    return decision.value, (None if calibration is None else float(calibration['threshold']))


def add_image_limit_argument(parser: argparse.ArgumentParser) -> None:
    """``--max-megapixels``: images above it are refused from their header, undecoded."""
    from dadf_mm.apis.image_files import DEFAULT_MAX_MEGAPIXELS
    parser.add_argument('--max-megapixels', type=positive_float,
                        default=DEFAULT_MAX_MEGAPIXELS,
                        help='refuse larger images before decoding them (default: '
                        f'{DEFAULT_MAX_MEGAPIXELS:g} million pixels)')


def config_and_checkpoint(args: argparse.Namespace) -> str:
    """Check ``args.config`` exists and read ``args.checkpoint`` (a file, or a work dir's
    best one): empty, truncated, refused or non-finite is one line before any work.
    Returns the checkpoint file."""
    from dadf_mm.engine import read_checkpoint
    if not osp.isfile(args.config):
        raise ToolError(f'config file {args.config!r} not found')
    checkpoint = checkpoint_file(args.checkpoint)
    read_checkpoint(checkpoint)
    return checkpoint
