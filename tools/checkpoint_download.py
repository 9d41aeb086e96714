"""Fetching and verifying the official SAM checkpoints (``tools/download_sam_checkpoints.py``).

Each file is checked against two published digests: the MD5, whose first six hex digits are
the suffix of the file's name (``sam_vit_h_4b8939.pth``), and the SHA-256. A download goes
to ``<name>.part`` next to its final place, continues an interrupted ``.part`` where the
server allows (HTTP range requests), and is renamed into place only once both digests
match, so the final path only ever holds a verified file. A server that sends more than
the published size is cut off at that size: nothing larger is ever written.
"""
import hashlib
import http.client
import math
import os
import os.path as osp
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Dict, Optional

#: where the segment-anything release puts its checkpoints
SAM_URL = 'https://dl.fbaipublicfiles.com/segment_anything'
CHUNK = 1 << 20


@dataclass(frozen=True)
class CheckpointFile:
    """One published checkpoint.

    Attributes:
        name (str): its file name, as the configs name it under ``checkpoints/``.
        url (str): where it is published.
        size (int): its size in bytes.
        md5 (str): its MD5 (hex); the name carries the first six digits.
        sha256 (str): its SHA-256 (hex).
    """

    name: str
    url: str
    size: int
    md5: str
    sha256: str


#: the three official SAM image-encoder checkpoints, by arch
SAM_CHECKPOINTS: Dict[str, CheckpointFile] = {
    'vit_h': CheckpointFile(
        'sam_vit_h_4b8939.pth', f'{SAM_URL}/sam_vit_h_4b8939.pth', 2564550879,
        '4b8939a88964f0f4ff5f5b2642c598a6',
        'a7bf3b02f3ebf1267aba913ff637d9a2d5c33d3173bb679e46d9f338c26f262e'),
    'vit_l': CheckpointFile(
        'sam_vit_l_0b3195.pth', f'{SAM_URL}/sam_vit_l_0b3195.pth', 1249524607,
        '0b3195507c641ddb6910d2bb5adee89c',
        '3adcc4315b642a4d2101128f611684e8734c41232a17c648ed1693702a49a622'),
    'vit_b': CheckpointFile(
        'sam_vit_b_01ec64.pth', f'{SAM_URL}/sam_vit_b_01ec64.pth', 375042383,
        '01ec64d29a2fca3f0661936605ae66f8',
        'ec2df62732614e57411cdcf32a23ffdf28910380d03139ee0f4fcbe91eb8c912'),
}


#: address schemes urllib fetches
URL_SCHEMES = ('http', 'https', 'ftp', 'file')


class CheckpointDownloadError(RuntimeError):
    """A checkpoint that could not be fetched or verified; the message is one line naming
    the file and the fix."""


class _TooLong(Exception):
    """The server sends more bytes than the published file has."""


def download_options_problem(*, folder: str, mirror: Optional[str] = None,
                             timeout: float = 60.0) -> Optional[str]:
    """What is wrong with the options of a download, before anything is fetched.

    Args:
        folder (str): Where the files go.
        mirror (str, optional): The mirror's base address. Defaults to None.
        timeout (float): Seconds without data before giving up. Defaults to 60.0.

    Returns:
        str | None: One line naming the option and the fix; None when all are usable.
    """
    existing = osp.abspath(folder)
    while not osp.exists(existing) and osp.dirname(existing) != existing:
        existing = osp.dirname(existing)  # the part of the path that is there
    if not osp.isdir(existing):
        return (f'--dir {folder}: {existing} is a file, not a folder: pass a folder for the '
                'checkpoints')
    if mirror is not None and urllib.parse.urlparse(mirror).scheme not in URL_SCHEMES:
        return (f'--mirror {mirror!r} is not an address: give its scheme, e.g. '
                f'https://{mirror.lstrip("/")} ({", ".join(URL_SCHEMES)})')
    if not (isinstance(timeout, (int, float)) and math.isfinite(timeout) and timeout > 0):
        return f'--timeout {timeout} must be a number of seconds above 0, e.g. 60'
    return None


def _by_hand(spec: CheckpointFile, path: str) -> str:
    return f'download it by hand from {spec.url} and place it at {path}'


def _progress_bar(total: int, initial: int, desc: str, enabled: bool):
    from tqdm import tqdm
    return tqdm(total=total, initial=initial, desc=desc, unit='B', unit_scale=True,
                unit_divisor=1024, disable=not enabled, leave=False, dynamic_ncols=True)


def file_digests(path: str, *, progress: bool = False) -> Dict[str, str]:
    """``{'md5': ..., 'sha256': ...}`` of a file, read once.

    Args:
        path (str): the file.
        progress (bool): show a progress bar. Defaults to False.

    Returns:
        dict[str, str]: the two hex digests.
    """
    md5, sha256 = hashlib.md5(usedforsecurity=False), hashlib.sha256()
    with open(path, 'rb') as f, _progress_bar(osp.getsize(path), 0,
                                              f'verify {osp.basename(path)}', progress) as bar:
        for block in iter(lambda: f.read(CHUNK), b''):
            md5.update(block)
            sha256.update(block)
            bar.update(len(block))
    return dict(md5=md5.hexdigest(), sha256=sha256.hexdigest())


def mismatch(path: str, spec: CheckpointFile, *, progress: bool = False) -> Optional[str]:
    """Why ``path`` is not ``spec``'s file, or ``None`` when its size, MD5 and SHA-256 all
    match the published ones.

    Args:
        path (str): The file to check.
        spec (CheckpointFile): The published file.
        progress (bool): Show a progress bar while hashing. Defaults to False.

    Returns:
        str | None: The first difference found (size, then SHA-256, then MD5), or None.
    """
    size = osp.getsize(path)
    if size != spec.size:
        return f'its size is {size} bytes, the published file has {spec.size}'
    digests = file_digests(path, progress=progress)
    for kind, label in (('sha256', 'SHA-256'), ('md5', 'MD5')):
        if digests[kind] != getattr(spec, kind):
            return f'its {label} is {digests[kind]}, the published one {getattr(spec, kind)}'
    return None


def verify_checkpoint(spec: CheckpointFile, folder: str, *, progress: bool = False) -> str:
    """Check the file ``spec`` names in ``folder``.

    Args:
        spec (CheckpointFile): the published file.
        folder (str): where it should be.
        progress (bool): show a progress bar while hashing. Defaults to False.

    Returns:
        str: its path, when it is there and verified.

    Raises:
        CheckpointDownloadError: it is missing or differs from the published file.
    """
    path = osp.join(folder, spec.name)
    if not osp.isfile(path):
        raise CheckpointDownloadError(
            f'{path} is missing: run tools/download_sam_checkpoints.py without --verify-only, '
            f'or {_by_hand(spec, path)}')
    why = mismatch(path, spec, progress=progress)
    if why:
        raise CheckpointDownloadError(
            f'{path} is not the published {spec.name}: {why}; delete it and run '
            f'tools/download_sam_checkpoints.py again, or {_by_hand(spec, path)}')
    return path


def _fetch(url: str, part: str, spec: CheckpointFile, *, timeout: float,
           progress: bool) -> None:
    """Append ``url``'s bytes to ``part`` from where it ends (a range request), or write it
    afresh where the server sends the whole file."""
    have = osp.getsize(part) if osp.exists(part) else 0
    if have >= spec.size:  # complete (to be verified) or too long (to be refetched)
        if have == spec.size:
            return
        os.remove(part)
        have = 0
    request = urllib.request.Request(url, headers={'Range': f'bytes={have}-'} if have else {})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        resumed = have > 0 and getattr(response, 'status', None) == 206
        if not resumed:
            have = 0
        announced = response.headers.get('Content-Length', '') if response.headers else ''
        if announced.strip().isdigit() and have + int(announced) > spec.size:
            raise _TooLong(have + int(announced))
        with open(part, 'ab' if resumed else 'wb') as out, \
                _progress_bar(spec.size, have, spec.name, progress) as bar:
            # never more than one byte past the published size
            for block in iter(lambda: response.read(min(CHUNK, spec.size + 1 - have)), b''):
                have += len(block)
                if have > spec.size:
                    raise _TooLong(have)
                out.write(block)
                bar.update(len(block))
            out.flush()
            os.fsync(out.fileno())


def download_checkpoint(spec: CheckpointFile, folder: str, *, url: Optional[str] = None,
                        timeout: float = 60.0, progress: bool = True) -> str:
    """Fetch ``spec`` into ``folder`` unless a verified copy is already there.

    Args:
        spec (CheckpointFile): the published file.
        folder (str): where it goes (created if missing).
        url (str, optional): another address of the same file (a mirror); None for
            ``spec.url``. Defaults to None.
        timeout (float): seconds without data before the download is given up.
            Defaults to 60.0.
        progress (bool): show progress bars. Defaults to True.

    Returns:
        str: the verified file's path.

    Raises:
        CheckpointDownloadError: the network failed (the ``.part`` file is kept and the next
            run continues it), the download's digests do not match (the ``.part`` file is
            removed), or a file already at the final path differs from the published one.
    """
    source = url or spec.url
    problem = download_options_problem(folder=folder, timeout=timeout,
                                       mirror=source if url else None)
    if problem:
        raise CheckpointDownloadError(problem)
    path = osp.join(folder, spec.name)
    if osp.exists(path):
        return verify_checkpoint(spec, folder, progress=progress)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as err:  # a file on the way, no permission, a read-only disk
        raise CheckpointDownloadError(f'cannot create --dir {folder} ({err.strerror}): pass '
                                      'a folder you can write to') from err
    part = f'{path}.part'

    def resume() -> str:  # the .part file is named only when there is one to continue
        if osp.isfile(part) and osp.getsize(part) > 0:
            return (f'run tools/download_sam_checkpoints.py again to continue from {part} '
                    f'({osp.getsize(part)} bytes), or {_by_hand(spec, path)}')
        return (f'nothing was written; run tools/download_sam_checkpoints.py again, or '
                f'{_by_hand(spec, path)}')

    try:
        _fetch(source, part, spec, timeout=timeout, progress=progress)
    except _TooLong as err:
        if osp.exists(part):
            os.remove(part)
        raise CheckpointDownloadError(
            f'{spec.name}: {source} sends more than the published {spec.size} bytes (at '
            f'least {err.args[0]}): not the published file; stopped and removed it, nothing '
            f'written to {path}: use another --mirror, or {_by_hand(spec, path)}') from None
    except (OSError, http.client.HTTPException, ValueError) as err:  # URLError: an OSError
        reason = err if isinstance(err, urllib.error.HTTPError) else \
            getattr(err, 'reason', None) or err
        raise CheckpointDownloadError(
            f'{spec.name}: downloading {source} failed ({reason}); {resume()}') from err
    got = osp.getsize(part)
    if got < spec.size:
        raise CheckpointDownloadError(
            f'{spec.name}: the connection to {source} ended after {got} of {spec.size} '
            f'bytes; {resume()}')
    why = mismatch(part, spec, progress=progress)
    if why:
        os.remove(part)
        raise CheckpointDownloadError(
            f'{spec.name}: the download from {source} is not the published file ({why}); '
            f'removed it, nothing written to {path}: run tools/download_sam_checkpoints.py '
            f'again, or {_by_hand(spec, path)}')
    os.replace(part, path)
    return path
