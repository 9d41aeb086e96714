"""Not a program: robustness.py's table (markdown, CSV, JSON) and plots, one row per
(perturbation, severity), one PNG per metric against severity."""
import csv
import io
import json
import os.path as osp
from typing import Dict, List, Mapping, Optional, Sequence

from dadf_mm.evaluation.cross_dataset_table import COLUMNS, write_table_files

#: the files :func:`write_tables` writes, by format
TABLE_FILES = {'markdown': 'robustness.md', 'csv': 'robustness.csv', 'json': 'robustness.json'}
KEYS = ('perturbation', 'severity', 'level', 'images')


def _cell(value: Optional[float]) -> str:
    return '' if value is None else f'{value:.2f}'


def markdown_table(rows: Sequence[Mapping]) -> str:
    """The rows as a markdown table, figures in % with two decimals."""
    head = [*KEYS, *COLUMNS.values()]
    lines = ['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)]
    for row in rows:
        cells = [str(row[k]) for k in KEYS] + [_cell(row[k]) for k in COLUMNS]
        lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines) + '\n'


def csv_table(rows: Sequence[Mapping]) -> str:
    """The rows as CSV (metric keys as column names, full precision)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator='\n')
    writer.writerow([*KEYS, *COLUMNS])
    for row in rows:
        writer.writerow([row[k] for k in KEYS] +
                        ['' if row[k] is None else repr(row[k]) for k in COLUMNS])
    return out.getvalue()


def write_tables(rows: Sequence[Mapping], folder: str) -> List[str]:
    """The table as robustness.md, .csv and .json in ``folder``; the files written."""
    texts = {'markdown': markdown_table(rows), 'csv': csv_table(rows),
             'json': json.dumps([dict(row) for row in rows], indent=2) + '\n'}
    return write_table_files(texts, folder, TABLE_FILES)


def curves(rows: Sequence[Mapping], key: str) -> Dict[str, List[tuple]]:
    """Per perturbation, its ``(severity, value)`` points of metric ``key``, each starting
    at the unperturbed row (severity 0); points without a value are left out."""
    clean = [row for row in rows if row['severity'] == 0]
    lines: Dict[str, List[tuple]] = {}
    for row in rows:
        if row['severity'] == 0:
            continue
        points = lines.setdefault(row['perturbation'], [
            (0, base[key]) for base in clean if base[key] is not None])
        if row[key] is not None:
            points.append((row['severity'], row[key]))
    return lines


def write_plots(rows: Sequence[Mapping], folder: str, labels: Mapping[str, str]) -> List[str]:
    """One PNG per metric with a value, ``robustness_<key>.png``: the metric against
    severity, one line per perturbation (its levels in the legend); [] without
    matplotlib."""
    try:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    paths = []
    for key, heading in COLUMNS.items():
        lines = curves(rows, key)
        if not any(len(points) > 1 for points in lines.values()):
            continue
        fig, ax = plt.subplots(figsize=(5.5, 4))
        for kind, points in lines.items():
            xs, ys = zip(*points)
            ax.plot(xs, ys, marker='o', label=labels.get(kind, kind))
        ax.set_xlabel('severity (0: unperturbed)')
        ax.set_ylabel(f'{heading} (%)')
        ax.set_xticks(sorted({row['severity'] for row in rows}))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        path = osp.join(folder, f'robustness_{key}.png')
        fig.savefig(path, dpi=100)
        plt.close(fig)
        paths.append(path)
    return paths
