"""Result files written at the end of a long run, never lost to a failed write.

A test run's metrics and predictions exist only in memory until they are written; if the
folder they go to has become unwritable (removed, full, a file put in its place), they are
written to a new file in the system's temporary folder instead, and the caller says where.
"""
import os
import os.path as osp
import tempfile

from ..engine.atomic_files import write_text_atomically


def write_result_file(text: str, path: str) -> str:
    """Write ``text`` to ``path`` atomically (the old file or the new one, never half), or,
    when that fails, to a new file in the temporary folder.

    Args:
        text (str): The content.
        path (str): Where it should go; its folder is created if needed.

    Returns:
        str: ``path``, or the fallback file the content was written to instead.

    Raises:
        OSError: Neither ``path`` nor the fallback could be written.
    """
    try:
        write_text_atomically(text, path)
        return path
    except OSError:
        stem, ext = osp.splitext(osp.basename(path))
        fd, fallback = tempfile.mkstemp(prefix=f'dadf_{stem}_', suffix=ext)
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            f.write(text)
        return fallback
