"""Everything a run needs, checked before the runner starts, every problem in one report.

The runner finds a missing list, image, SAM file or checkpoint one at a time, each after
mmengine has printed the config and the hook tables and created the work dir. Here the
config's values (:mod:`.config_values`), every data list the run's dataloaders name (the
dataset's own reading of it, and whether the images and masks it lists exist), the SAM
checkpoint, the checkpoint files and the folders the run writes to are checked first, and
every problem is one line naming the file or key and the fix.
"""
import os
import os.path as osp
from typing import Any, Callable, Iterator, List, Mapping, Optional, Sequence, Tuple

from mmengine.config import Config
from mmengine.registry import DefaultScope

from dadf_mm.engine.atomic_files import nearest_existing
from dadf_mm.engine.decision_threshold import calibration_problems

from checkpoint_download import SAM_CHECKPOINTS
from config_values import config_value_problems

#: at most this many listed files are looked up per list (evenly spread over it)
MAX_FILES_CHECKED = 50000
# dataset wrappers: (type, key of the wrapped dataset config(s))
_WRAPPERS = {'ConcatDataset': 'datasets', 'RepeatDataset': 'dataset',
             'ClassBalancedDataset': 'dataset'}
DOWNLOAD_SAM = 'python tools/download_sam_checkpoints.py'


class PreflightError(ValueError):
    """Problems found before a run; ``problems`` holds one line each (the message joins
    them).

    Args:
        problems (Sequence[str]): One line per problem, each naming the file or key and
            the fix.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__('\n'.join(problems))
        self.problems = list(problems)


def _leaf_datasets(dataset: Any, key: str) -> Iterator[Tuple[str, Mapping]]:
    """The dataset configs under ``key`` (inside Concat/Repeat wrappers)."""
    if not isinstance(dataset, Mapping):
        return
    inner = _WRAPPERS.get(dataset.get('type'))
    if inner == 'datasets':
        for i, part in enumerate(dataset.get('datasets') or []):
            yield from _leaf_datasets(part, f'{key}.datasets.{i}')
    elif inner == 'dataset':
        yield from _leaf_datasets(dataset.get('dataset'), f'{key}.dataset')
    else:
        yield key, dataset


def _spread(items: Sequence, limit: int) -> Sequence:
    """``items``, or ``limit`` of them evenly spread (the first and the last included)."""
    if len(items) <= limit:
        return items
    step = (len(items) - 1) / (limit - 1)
    return [items[round(i * step)] for i in range(limit)]


def _missing_files(loader: str, dataset: Any, data_list: List[dict],
                   root_option: Optional[str] = None) -> Iterator[str]:
    """One line per kind of listed file (image, mask) of which some do not exist."""
    checked = _spread(data_list, MAX_FILES_CHECKED)
    fix = root_option or f'--cfg-options {loader}.dataset.data_root=FOLDER'
    for field, what in (('img_path', 'images'), ('seg_map_path', 'masks')):
        paths = [info[field] for info in checked if info.get(field)]
        gone = [path for path in paths if not osp.isfile(path)]
        if not gone:
            continue
        listed = f'listed in {dataset.ann_file}' if len(checked) == len(data_list) else \
            (f'checked (evenly spread over the {len(data_list)} records of '
             f'{dataset.ann_file})')
        root = getattr(dataset, 'data_root', None) or '.'
        yield (f'{loader}: {len(gone)} of {len(paths)} {what} {listed} do not exist, e.g. '
               f'{gone[0]}; the paths are read relative to data_root {root!r} (and '
               f'data_prefix): fix {fix}, or make '
               f'them: {getattr(dataset, "HOW_TO_MAKE", "convert the data again")}')


def data_problems(cfg: Config, loaders: Sequence[str],
                  root_option: Optional[str] = None) -> List[str]:
    """Whether each dataset of ``loaders`` builds, and, for a dataset read from an
    annotation list, whether the list reads (the dataset's own reading, with its
    messages) and the images and masks it lists exist.

    Datasets that make their own list (``SyntheticForgeryDataset`` writes it on first
    use) are built, not read.

    Args:
        cfg (Config): The config.
        loaders (Sequence[str]): E.g. ``('train_dataloader', 'val_dataloader')``.
        root_option (str, optional): How the user sets the data root, for the message
            (e.g. ``'--data-root dfd=FOLDER'``); None: ``--cfg-options
            <loader>.dataset.data_root=FOLDER``. Defaults to None.

    Returns:
        list[str]: One line per problem, starting with the dataloader's name.
    """
    # the registry scope the runner builds in (the pipelines' transforms are mmseg's)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope') or 'mmseg'):
        return [line for loader in loaders
                for line in _loader_problems(cfg, loader, root_option)]


def _loader_problems(cfg: Config, loader: str, root_option: Optional[str]) -> Iterator[str]:
    from mmseg.registry import DATASETS

    from dadf_mm.datasets.errors import ForgeryDataError
    from dadf_mm.datasets.forgery_dataset import ForgeryFolderDataset
    loader_cfg = cfg.get(loader)
    if not isinstance(loader_cfg, Mapping):
        return
    for key, dataset_cfg in _leaf_datasets(loader_cfg.get('dataset'), 'dataset'):
        where = f'{loader}.{key}' if key != 'dataset' else loader
        try:
            dataset = DATASETS.build(dict(dataset_cfg, lazy_init=True))
        except ForgeryDataError as err:
            yield f'{where}: {" ".join(str(err).split())}'
            continue
        except (ValueError, TypeError, KeyError, AssertionError) as err:
            said = err.args[0] if isinstance(err, KeyError) and err.args else err
            text = ' '.join(str(said).split()) or type(err).__name__
            yield f'{where}.dataset: {text}' if key == 'dataset' else f'{where}: {text}'
            continue
        own_list = type(dataset).load_data_list is not ForgeryFolderDataset.load_data_list
        if not isinstance(dataset, ForgeryFolderDataset) or own_list:
            continue
        try:
            data_list = ForgeryFolderDataset.load_data_list(dataset)
        except ForgeryDataError as err:
            yield f'{where}: {" ".join(str(err).split())}'
            continue
        yield from _missing_files(where, dataset, data_list, root_option)


def _sam_arch(cfg: Config, path: str) -> Optional[str]:
    """The SAM arch of ``path``'s official name, else the config's backbone arch."""
    for arch, spec in SAM_CHECKPOINTS.items():
        if osp.basename(path) == spec.name:
            return arch
    arch = (cfg.get('model') or {}).get('backbone', {}).get('arch')
    return arch if isinstance(arch, str) and arch in SAM_CHECKPOINTS else None


def sam_checkpoint_problems(cfg: Config) -> List[str]:
    """Whether the SAM checkpoint ``model.sam_checkpoint`` names is there: a readable,
    non-empty file, of the published size when it has an official name.

    Args:
        cfg (Config): The config.

    Returns:
        list[str]: ``'SAM checkpoint: ...'`` lines naming the file and the fix (the
        download tool, or ``model.sam_checkpoint=PATH``).
    """
    path = (cfg.get('model') or {}).get('sam_checkpoint')
    if not path or not isinstance(path, str):
        return []
    arch = _sam_arch(cfg, path)
    fetch = (f'fetch it with {DOWNLOAD_SAM}{" " + arch if arch else ""} (into checkpoints/)'
             ' or point --cfg-options model.sam_checkpoint=PATH at your copy')
    if not osp.exists(path):
        return [f'SAM checkpoint: model.sam_checkpoint {path!r} not found; {fetch}']
    if not osp.isfile(path):
        return [f'SAM checkpoint: model.sam_checkpoint {path!r} is a folder, not a file; '
                'point --cfg-options model.sam_checkpoint=PATH at the .pth file']
    size = osp.getsize(path)
    if size == 0:
        return [f'SAM checkpoint: {path!r} is empty (0 bytes): it was cut off while being '
                f'written, copied or downloaded; {fetch}']
    if not os.access(path, os.R_OK):
        return [f'SAM checkpoint: {path!r} cannot be read (permission denied); make it '
                'readable (chmod a+r) or use another copy']
    spec = SAM_CHECKPOINTS.get(arch or '')
    if spec is not None and osp.basename(path) == spec.name and size != spec.size:
        return [f'SAM checkpoint: {path!r} is {size} bytes, the published {spec.name} is '
                f'{spec.size}: it is cut off or another file; check it with {DOWNLOAD_SAM} '
                f'{arch} --verify-only and fetch it again']
    return []


def checkpoint_problems(path: str, what: str) -> List[str]:
    """Whether ``path`` is a checkpoint file that loads (weights only).

    Args:
        path (str): A local file (URLs are checked where they are loaded).
        what (str): How the tool names it, e.g. ``'checkpoint file'``, ``'--resume
            checkpoint'``, ``'load_from checkpoint'``.

    Returns:
        list[str]: At most one line naming the file, what is wrong and the fix.
    """
    from dadf_mm.engine.checkpoint_files import CheckpointFileError, read_checkpoint
    if '://' in path:
        return []
    if not osp.exists(path):
        return [f'{what} {path!r} not found; pass the path of a .pth file']
    if osp.isdir(path):
        return [f'{what} {path!r} is a folder; pass the .pth file in it (e.g. its '
                'best_*.pth or iter_*.pth)']
    try:
        read_checkpoint(path)
    except CheckpointFileError as err:
        return [f'{what}: {" ".join(str(err).split())}']
    return []


def folder_problems(path: str, what: str, fix: str = 'give another path') -> List[str]:
    """Whether the folder ``path`` is, or can be made, a writable folder (nothing is made).

    Args:
        path (str): The folder.
        what (str): How the tool names it, e.g. ``'work dir'``, ``'--out'``.
        fix (str): What to do instead, for the message. Defaults to 'give another path'.

    Returns:
        list[str]: At most one line naming the folder, what is wrong and the fix.
    """
    if osp.exists(path) and not osp.isdir(path):
        return [f'{what} {path!r} is a file, not a folder; {fix}']
    found = nearest_existing(path)
    if not osp.isdir(found):
        return [f'{what} {path!r} cannot be made: {found!r} is a file; {fix}']
    if not os.access(found, os.W_OK | os.X_OK):
        made = '' if found == osp.abspath(path) else f' ({found!r}, where it would be made)'
        return [f'{what} {path!r} is not writable{made}; {fix}']
    return []


def output_folder_problems(path: str, what: str, results: Sequence[str],
                           overwrite: bool, overwrite_flag: str) -> List[str]:
    """Whether ``path`` can take a run's result files without losing earlier ones.

    Args:
        path (str): The folder the results go to.
        what (str): How the tool names it, e.g. ``'--out'``.
        results (Sequence[str]): The file names the run writes there.
        overwrite (bool): Earlier result files may be replaced.
        overwrite_flag (str): The option that allows it, for the message.

    Returns:
        list[str]: At most one line naming the folder or file and the fix.
    """
    problems = folder_problems(path, what, f'give a folder for {" and ".join(results)}')
    if problems or overwrite or not osp.isdir(path):
        return problems
    there = [name for name in results if osp.exists(osp.join(path, name))]
    if there:
        return [f'{what} {path!r} already holds {" and ".join(there)} of an earlier run; '
                f'give another folder, or add {overwrite_flag} to replace them']
    return []


def preflight_problems(cfg: Config, *, loaders: Sequence[str], train: bool,
                       checkpoints: Sequence[Tuple[str, str]] = (),
                       options: Optional[Mapping[str, Any]] = None,
                       defaults: Optional[Mapping[str, Any]] = None,
                       extra: Sequence[str] = (),
                       estimates: Sequence[Callable[[], List[str]]] = ()) -> List[str]:
    """Every problem of a run found before its runner starts.

    Args:
        cfg (Config): The config after ``--cfg-options``.
        loaders (Sequence[str]): The dataloaders the run builds.
        train (bool): A training run (the loop's values, the SAM checkpoint).
        checkpoints (Sequence[tuple[str, str]]): ``(what, path)`` of the checkpoint files
            the run loads. Defaults to ().
        options (Mapping[str, Any], optional): ``--cfg-options``. Defaults to None.
        defaults (Mapping[str, Any], optional): The config file's values of the option
            keys. Defaults to None.
        extra (Sequence[str]): Problems the caller found (e.g. with its output folder),
            listed after these. Defaults to ().
        estimates (Sequence[Callable[[], list[str]]]): Checks that compute with the
            config's values (e.g. the memory estimate), run only when those are in range.
            Defaults to ().

    Returns:
        list[str]: One line per problem (empty: the run can start).
    """
    problems = config_value_problems(cfg, loaders=loaders, train=train, options=options,
                                     defaults=defaults)
    values_in_range = not problems
    problems += data_problems(cfg, loaders)
    if train:
        problems += sam_checkpoint_problems(cfg) + calibration_problems(cfg)
    for what, path in checkpoints:
        problems += checkpoint_problems(path, what)
    problems += folder_problems(cfg.work_dir, 'work dir', 'give another with --work-dir PATH')
    problems += extra
    if values_in_range:
        for estimate in estimates:
            problems += estimate()
    return problems
