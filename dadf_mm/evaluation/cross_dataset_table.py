"""The cross-dataset table: one row per test set, detection at frame and video level and,
where the set has masks, localisation; written as markdown, CSV and JSON.

A row's figures are ``ForgeryMetric``'s keys (in %, unprefixed); one the metric did not
report (localisation of a set without masks) or could not compute (AUC of a one-class
set: NaN) is blank in markdown and CSV, ``null`` in JSON.
"""
import csv
import io
import json
import math
import os.path as osp
from typing import Dict, List, Mapping, Optional, Sequence

from ..engine.atomic_files import write_text_atomically

#: the figures of a row: ForgeryMetric key -> column heading
COLUMNS = {
    'AUC': 'frame AUC',
    'video_AUC': 'video AUC',
    'EER': 'frame EER',
    'video_EER': 'video EER',
    'AP': 'frame AP',
    'ACC': 'ACC',
    'ACC@calibrated': 'ACC (calibrated)',
    'PBCA': 'PBCA',
    'IINC': 'IINC',
}
#: the files :func:`write_tables` writes, by format
TABLE_FILES = {'markdown': 'cross_dataset.md', 'csv': 'cross_dataset.csv',
               'json': 'cross_dataset.json'}


def _value(metrics: Mapping[str, float], key: str) -> Optional[float]:
    value = metrics.get(key)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def table_row(dataset: str, num_images: int, metrics: Mapping[str, float]) -> Dict:
    """One row of the table.

    Args:
        dataset (str): The test set's name.
        num_images (int): How many images were evaluated.
        metrics (Mapping[str, float]): ``ForgeryMetric``'s results (unprefixed keys).

    Returns:
        dict: ``dataset``, ``images`` and one value (or None) per key of :data:`COLUMNS`.
    """
    row = {'dataset': dataset, 'images': int(num_images)}
    row.update({key: _value(metrics, key) for key in COLUMNS})
    return row


def _cell(value: Optional[float]) -> str:
    return '' if value is None else f'{value:.2f}'


def markdown_table(rows: Sequence[Mapping]) -> str:
    """The rows as a markdown table, figures in % with two decimals.

    Args:
        rows (Sequence[Mapping]): Rows of :func:`table_row`.

    Returns:
        str: The table, one line per row after the heading.
    """
    head = ['dataset', 'images', *COLUMNS.values()]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for row in rows:
        cells = [row['dataset'], str(row['images'])] + [_cell(row[k]) for k in COLUMNS]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def csv_table(rows: Sequence[Mapping]) -> str:
    """The rows as CSV (the metric keys as column names, figures at full precision).

    Args:
        rows (Sequence[Mapping]): Rows of :func:`table_row`.

    Returns:
        str: The CSV text, a header line first.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow(['dataset', 'images', *COLUMNS])
    for row in rows:
        writer.writerow([row['dataset'], row['images'],
                         *('' if row[k] is None else repr(row[k]) for k in COLUMNS)])
    return out.getvalue()


def write_table_files(texts: Mapping[str, str], folder: str,
                      file_names: Mapping[str, str]) -> List[str]:
    """Write one table's texts, each format to its file in ``folder``, atomically.

    Args:
        texts (Mapping[str, str]): Format (``'markdown'``, ``'csv'``, ``'json'``) -> text.
        folder (str): Where the files go (made if needed).
        file_names (Mapping[str, str]): Format -> file name.

    Returns:
        list[str]: The files written.
    """
    paths = []
    for kind, name in file_names.items():
        path = osp.join(folder, name)
        write_text_atomically(texts[kind], path)
        paths.append(path)
    return paths


def write_tables(rows: Sequence[Mapping], folder: str) -> List[str]:
    """Write the table in every format of :data:`TABLE_FILES` to ``folder``, each file
    atomically.

    Args:
        rows (Sequence[Mapping]): Rows of :func:`table_row`.
        folder (str): Where the files go (made if needed).

    Returns:
        list[str]: The files written.
    """
    texts = {'markdown': markdown_table(rows), 'csv': csv_table(rows),
             'json': json.dumps([dict(row) for row in rows], indent=2) + '\n'}
    return write_table_files(texts, folder, TABLE_FILES)
