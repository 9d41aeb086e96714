"""Every address mmengine loads a checkpoint from, read with ``weights_only=True``.

mmengine's ``CheckpointLoader`` picks a loader by the start of the name: a local path,
``http(s)://``, ``torchvision://`` / ``modelzoo://``, ``open-mmlab://`` / ``openmmlab://``,
``mmcls://``, ``pavi://``, ``s3://`` / ``petrel://``. Its URL loaders go through
``torch.hub.load_state_dict_from_url``, whose default is ``weights_only=False``: a pickle
in a downloaded file runs, and the file stays in the hub cache. ``load_from``,
``resume``, ``init_cfg=dict(type='Pretrained', checkpoint=...)`` and every mmseg backbone
reach a checkpoint through these loaders.

:func:`install_safe_checkpoint_schemes` registers, for each of these schemes, a loader
that fetches the file as mmengine does and reads it with :func:`read_checkpoint` (weights
only, non-finite values refused); a downloaded file that is refused is removed from the
cache. A scheme registered by anyone else is refused rather than trusted.
"""
import io
import logging
import os
import os.path as osp
import tempfile
import urllib.parse
from typing import Any, Callable, Dict, Optional

import torch
from mmengine.dist import get_dist_info
from mmengine.logging import print_log
from mmengine.runner import checkpoint as mm_checkpoint
from mmengine.runner.checkpoint import CheckpointLoader

from .checkpoint_files import CheckpointFileError, read_checkpoint


def _read(path: str, map_location: Any, source: Optional[str] = None) -> Any:
    """:func:`read_checkpoint` of a whole file; ``source`` names where it came from."""
    try:
        return read_checkpoint(path, mmap=False, map_location=map_location)
    except CheckpointFileError as err:
        if source is None:
            raise
        raise type(err)(f'checkpoint {source} refused: {err}') from err


def load_from_local(filename: str, map_location: Any = None) -> Any:
    """A local checkpoint, weights only.

    Args:
        filename (str): The file (``~`` expanded).
        map_location (Any): As :func:`torch.load`. Defaults to None (the CPU).

    Returns:
        Any: What the file holds.
    """
    return _read(osp.expanduser(filename), map_location or 'cpu')


def cached_download(url: str, model_dir: Optional[str] = None,
                    progress: bool = False) -> str:
    """Download ``url`` into the torch hub cache (where mmengine puts it) unless it is
    there, and return the file.

    Args:
        url (str): An ``http(s)://`` address.
        model_dir (str, optional): The cache folder; None for ``<hub dir>/checkpoints``.
            Defaults to None.
        progress (bool): Show a progress bar. Defaults to False.

    Returns:
        str: The downloaded file.
    """
    model_dir = model_dir or osp.join(torch.hub.get_dir(), 'checkpoints')
    name = osp.basename(urllib.parse.urlparse(url).path) or 'checkpoint.pth'
    cached = osp.join(model_dir, name)
    if osp.isfile(cached):
        return cached
    try:
        os.makedirs(model_dir, exist_ok=True)
        torch.hub.download_url_to_file(url, cached, progress=progress)
    except (OSError, ValueError) as err:  # URLError / HTTPError are OSErrors
        reason = getattr(err, 'reason', None) or err
        raise CheckpointFileError(f'checkpoint {url}: downloading it to {cached} failed '
                                  f'({reason}); check the address and the network') from err
    return cached


def _load_url(url: str, map_location: Any, model_dir: Optional[str]) -> Any:
    cached = cached_download(url, model_dir, progress=os.isatty(0))
    try:
        return _read(cached, map_location or 'cpu')
    except CheckpointFileError as err:
        os.remove(cached)  # nothing refused stays in the cache for a later run
        raise type(err)(f'checkpoint {url} refused (the download {cached} is removed): '
                        f'{err}') from err


def load_from_http(filename: str, map_location: Any = None,
                   model_dir: Optional[str] = None) -> Any:
    """An ``http(s)://`` checkpoint, downloaded on rank 0 first, read weights only.

    Args:
        filename (str): The address.
        map_location (Any): As :func:`torch.load`. Defaults to None (the CPU).
        model_dir (str, optional): The cache folder. Defaults to None (torch's hub).

    Returns:
        Any: What the file holds.
    """
    rank, world_size = get_dist_info()
    checkpoint = None
    if rank == 0:
        checkpoint = _load_url(filename, map_location, model_dir)
    if world_size > 1:
        torch.distributed.barrier()
        if rank > 0:
            checkpoint = _load_url(filename, map_location, model_dir)
    return checkpoint


def _named_url(scheme: str, name: str, urls: Dict[str, str]) -> str:
    if name not in urls:
        raise CheckpointFileError(f'checkpoint {scheme}{name}: no model of that name is '
                                  f'known under {scheme}; pass a file or an http(s) URL')
    return urls[name]


def load_from_torchvision(filename: str, map_location: Any = None) -> Any:
    """``torchvision://NAME`` (or the deprecated ``modelzoo://NAME``), weights only.

    Args:
        filename (str): The address.
        map_location (Any): As :func:`torch.load`. Defaults to None (the CPU).

    Returns:
        Any: What the file holds.
    """
    scheme = 'modelzoo://' if filename.startswith('modelzoo://') else 'torchvision://'
    name = filename[len(scheme):]
    return load_from_http(_named_url(scheme, name, mm_checkpoint.get_torchvision_models()),
                          map_location)


def load_from_openmmlab(filename: str, map_location: Any = None) -> Any:
    """``open-mmlab://NAME`` / ``openmmlab://NAME``, weights only.

    Args:
        filename (str): The address.
        map_location (Any): As :func:`torch.load`. Defaults to None (the CPU).

    Returns:
        Any: What the file holds.
    """
    scheme = 'open-mmlab://' if filename.startswith('open-mmlab://') else 'openmmlab://'
    name = filename[len(scheme):]
    deprecated = mm_checkpoint.get_deprecated_model_names()
    if name in deprecated:
        print_log(f'{scheme}{name} is deprecated in favor of {scheme}{deprecated[name]}',
                  logger='current', level=logging.WARNING)
        name = deprecated[name]
    url = _named_url(scheme, name, mm_checkpoint.get_external_models())
    if url.startswith(('http://', 'https://')):
        return load_from_http(url, map_location)
    return _read(osp.join(mm_checkpoint._get_mmengine_home(), url), map_location or 'cpu')


def load_from_mmcls(filename: str, map_location: Any = None) -> Any:
    """``mmcls://NAME`` (its backbone's weights), weights only.

    Args:
        filename (str): The address.
        map_location (Any): As :func:`torch.load`. Defaults to None (the CPU).

    Returns:
        Any: ``{'state_dict': ...}`` of the backbone.
    """
    url = _named_url('mmcls://', filename[len('mmcls://'):], mm_checkpoint.get_mmcls_models())
    return mm_checkpoint._process_mmcls_checkpoint(load_from_http(url, map_location))


def _read_bytes(data: bytes, source: str, map_location: Any) -> Any:
    """Bytes fetched from a store, written to a private temporary file and read."""
    with tempfile.TemporaryDirectory() as folder:
        path = osp.join(folder, osp.basename(source) or 'checkpoint.pth')
        with open(path, 'wb') as f:
            f.write(data)
        return _read(path, map_location or 'cpu', source)


def load_from_ceph(filename: str, map_location: Any = None) -> Any:
    """``s3://`` / ``petrel://`` (optionally ``CLUSTER:s3://``), weights only.

    Args:
        filename (str): The address.
        map_location (Any): As :func:`torch.load`. Defaults to None (the CPU).

    Returns:
        Any: What the file holds.
    """
    from mmengine.fileio import get_file_backend
    backend = get_file_backend(filename, backend_args={'backend': 'petrel'})
    with io.BytesIO(backend.get(filename)) as buffer:
        return _read_bytes(buffer.getvalue(), filename, map_location)


def load_from_pavi(filename: str, map_location: Any = None) -> Any:
    """``pavi://`` model-cloud files, weights only.

    Args:
        filename (str): The address.
        map_location (Any): As :func:`torch.load`. Defaults to None (the CPU).

    Returns:
        Any: What the file holds.
    """
    try:
        from pavi import modelcloud
    except ImportError as err:
        raise CheckpointFileError(f'checkpoint {filename}: pavi:// needs the pavi package, '
                                  'which is not installed; pass a file instead') from err
    model = modelcloud.get(filename[len('pavi://'):])
    with tempfile.TemporaryDirectory() as folder:
        path = osp.join(folder, model.name)
        model.download(path)
        return _read(path, map_location or 'cpu', filename)


def _refuse(filename: str, map_location: Any = None) -> Any:
    raise CheckpointFileError(
        f'checkpoint {filename}: its address scheme has no weights-only loader here, so it '
        'is refused; download the file and pass its path')


#: prefix (a regular expression, as mmengine matches them) -> weights-only loader
SAFE_LOADERS: Dict[str, Callable] = {
    '': load_from_local,
    'http://': load_from_http,
    'https://': load_from_http,
    'torchvision://': load_from_torchvision,
    'modelzoo://': load_from_torchvision,
    'open-mmlab://': load_from_openmmlab,
    'openmmlab://': load_from_openmmlab,
    'mmcls://': load_from_mmcls,
    'pavi://': load_from_pavi,
    r'(\S+\:)?s3://': load_from_ceph,
    r'(\S+\:)?petrel://': load_from_ceph,
}


_original_get_loader = CheckpointLoader._get_checkpoint_loader


def _weights_only_loader(cls, path: str) -> Callable:
    """``CheckpointLoader._get_checkpoint_loader`` that returns only loaders of
    :data:`SAFE_LOADERS` (a scheme registered later by other code is refused)."""
    loader = _original_get_loader(path)
    return loader if loader in SAFE_LOADERS.values() else _refuse


def install_safe_checkpoint_schemes() -> None:
    """Register :data:`SAFE_LOADERS` in mmengine's ``CheckpointLoader`` (over mmengine's
    own) and refuse every other scheme."""
    for prefix in list(CheckpointLoader._schemes):
        if prefix not in SAFE_LOADERS:
            CheckpointLoader.register_scheme(prefix, _refuse, force=True)
    for prefix, loader in SAFE_LOADERS.items():
        CheckpointLoader.register_scheme(prefix, loader, force=True)
    CheckpointLoader._get_checkpoint_loader = classmethod(_weights_only_loader)
