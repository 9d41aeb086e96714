"""Files that are either the old version or the new one, never half of either.

A file is written to a temporary name in its own folder, flushed to disk, and renamed over
the final name (``os.replace`` is atomic on POSIX and Windows within one file system); the
folder is then synced so that the rename itself survives a power cut. A process killed at
any point leaves the previous file intact and at most a stray temporary file.
"""
import glob
import io
import logging
import os
import os.path as osp
from typing import Any, List

import torch
from mmengine.logging import print_log

TMP_MARK = '.tmp-'


def temporary_name(path: str) -> str:
    """A hidden name next to ``path`` that no checkpoint pattern (``*.pth``) matches.

    Args:
        path (str): The final file name.

    Returns:
        str: ``<folder>/.<name>.tmp-<pid>``.
    """
    return osp.join(osp.dirname(path), f'.{osp.basename(path)}{TMP_MARK}{os.getpid()}')


def sync_folder(folder: str) -> None:
    """fsync a folder so that renames in it are on disk (a no-op where unsupported).

    Args:
        folder (str): The folder; ``''`` is the current one.
    """
    try:
        fd = os.open(folder or '.', os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_bytes_atomically(data: bytes, path: str) -> None:
    """Write ``data`` to ``path`` through a synced temporary file and a rename.

    Args:
        data (bytes): the new content.
        path (str): the final name; its folder is created if needed.
    """
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = temporary_name(path)
    try:
        with open(tmp, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    sync_folder(folder)


def write_text_atomically(text: str, path: str) -> None:
    """:func:`write_bytes_atomically` for text (UTF-8).

    Args:
        text (str): The new content.
        path (str): The final name; its folder is created if needed.
    """
    write_bytes_atomically(text.encode('utf-8'), path)


def save_torch_atomically(obj: Any, path: str) -> None:
    """``torch.save(obj, path)`` that never leaves a partial ``path``.

    Args:
        obj (Any): What to save.
        path (str): The final name; its folder is created if needed.
    """
    with io.BytesIO() as buffer:
        torch.save(obj, buffer)
        write_bytes_atomically(buffer.getvalue(), path)


def stray_temporary_files(folder: str) -> List[str]:
    """Temporary files a killed writer left in ``folder``.

    Args:
        folder (str): The folder to look in.

    Returns:
        list[str]: Their paths, sorted.
    """
    return sorted(glob.glob(osp.join(glob.escape(folder), f'.*{TMP_MARK}*')))


def remove_stray_temporary_files(folder: str) -> List[str]:
    """Delete the temporary files a killed or failed writer left in ``folder`` (a disk that
    filled up during a save stays full until they go), each with a warning; one that cannot
    be removed is left.

    Args:
        folder (str): The folder (held by this process: no writer is running there).

    Returns:
        list[str]: The paths removed.
    """
    removed = []
    for stray in stray_temporary_files(folder):
        try:
            os.remove(stray)
        except OSError:
            continue
        removed.append(stray)
        print_log(f'Removed {stray}, left by an interrupted save.', logger='current',
                  level=logging.WARNING)
    return removed


def nearest_existing(path: str) -> str:
    """``path`` (absolute) if it exists, else its nearest existing parent: where a folder
    that is yet to be made would be made.

    Args:
        path (str): A file or folder path.

    Returns:
        str: The absolute path of the nearest existing one (the root at worst).
    """
    path = osp.abspath(path)
    while not osp.exists(path) and osp.dirname(path) != path:
        path = osp.dirname(path)
    return path
