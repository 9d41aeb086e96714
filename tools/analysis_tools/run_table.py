"""Train and test every row of one of the paper's tables (or the demo's) and print the table
beside the paper's figures.

    python tools/analysis_tools/run_table.py --list                  # the tables
    python tools/analysis_tools/run_table.py table1                  # train, test, print
    python tools/analysis_tools/run_table.py table4-ablation --rows dadf_vit-h_no-rga_ffpp-hq
    python tools/analysis_tools/run_table.py demo-ablation --dry-run # the commands only
    python tools/analysis_tools/run_table.py demo-ablation --cfg-options train_cfg.max_iters=300

The tables are declared in configs/dadf/tables.yaml (named by metafile.yaml's ``Tables``):
rows of metafile models, the metric columns, and where the reference figures come from
(the row's metafile ``Results`` that the paper reports, else those measured before).

Each row trains with ``tools/train.py CONFIG --work-dir WORK_DIR/<model> --resume`` (an
interrupted training resumes) and is tested with ``tools/test.py CONFIG WORK_DIR/<model>
--out WORK_DIR/<row>/test`` (its best checkpoint, else the last one). A finished row's
metrics (``WORK_DIR/<row>/row.json``) are reused while its config (with ``--cfg-options``)
and its checkpoint are unchanged; a finished training is not run again. The table is printed
and written as ``WORK_DIR/<table>.md``, ``.csv`` and ``.json``; the reference figures are in
the columns labelled ``(paper)`` (or ``(measured before)``).
"""
import argparse
import csv
import hashlib
import io
import json
import os
import os.path as osp
import sys
from typing import Any, Dict, List, Optional, Sequence

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # for training_runs
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # tools/: tool_setup
from mmengine.config import Config  # noqa: E402

from dadf_mm.apis.config_checks import apply_cfg_options  # noqa: E402
from dadf_mm.apis.model_index import model_info, model_tables  # noqa: E402
from dadf_mm.engine import resolve_checkpoint  # noqa: E402
from dadf_mm.engine.atomic_files import write_text_atomically  # noqa: E402

from cfg_options import parse_cfg_option  # noqa: E402
from tool_setup import ToolError, one_line, run_tool  # noqa: E402
from training_runs import ROOT, run_logged, shown, test_command, train_command  # noqa: E402

TOOL = 'run_table.py'
SOURCES = {'paper': ('reported by the paper', '(paper)'),
           'measured': ('measured with this code', '(measured before)')}


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('table', nargs='?', help='a table of configs/dadf/tables.yaml, e.g. '
                        'table1, demo-ablation (--list shows them)')
    parser.add_argument('--list', action='store_true', help='list the tables and their rows')
    parser.add_argument('--rows', nargs='+', metavar='MODEL',
                        help="only these rows (their models' names)")
    parser.add_argument('--work-dir', default=osp.join(ROOT, 'work_dirs', 'tables'),
                        help='one folder per trained model and per row, and the tables '
                        '(default: work_dirs/tables)')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the commands that would run; run nothing')
    parser.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
                        help='override config keys of every row, training and test (e.g. '
                        'train_cfg.max_iters=300)')
    parser.add_argument('--allow-new-keys', action='store_true',
                        help='let --cfg-options add keys the configs do not have')
    return parser.parse_args(argv)


def find_table(name: Optional[str], tables: Dict[str, dict]) -> dict:
    """The table called ``name``; a :class:`ToolError` listing the known ones."""
    if name not in tables:
        what = f'unknown table {name!r}' if name else 'name a table'
        raise ToolError(f'{what}; known: {", ".join(tables)} (configs/dadf/tables.yaml)')
    return tables[name]


def chosen_rows(table: dict, names: Optional[Sequence[str]]) -> List[dict]:
    """The table's rows, or those of ``names`` in the table's order; a :class:`ToolError`
    listing the table's rows for a name it lacks."""
    rows = table['Rows']
    known = [row['Model'] for row in rows]
    for name in names or ():
        if name not in known:
            raise ToolError(f'table {table["Name"]!r} has no row {name!r}; its rows: '
                            f'{", ".join(known)}')
    return [row for row in rows if not names or row['Model'] in names]


def options_dict(options: Sequence[str]) -> Dict[str, Any]:
    """``--cfg-options`` as mmengine reads them."""
    parsed = {}
    for text in options:
        try:
            key, value = parse_cfg_option(text)
        except (argparse.ArgumentTypeError, ValueError) as err:
            raise ToolError(f'--cfg-options {text!r}: {one_line(err)}') from err
        parsed[key] = value
    return parsed


def config_hash(model: str, options: Dict[str, Any], allow_new_keys: bool) -> str:
    """What a model's training or test depends on: its config with ``--cfg-options``
    (checked: a key nothing reads is refused here, before any work), hashed."""
    path = model_info(model)['Config']
    cfg = Config.fromfile(path)
    apply_cfg_options(cfg, options, allow_new_keys)
    settings = {k: v for k, v in cfg.to_dict().items() if k not in ('work_dir', 'launcher')}
    text = json.dumps(settings, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode('utf-8')).hexdigest()[:16]


def read_json(path: str) -> Optional[dict]:
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def checkpoint_identity(train_dir: str) -> Optional[Dict[str, Any]]:
    """The checkpoint ``tools/test.py`` tests in a training work dir (path, size,
    modification time); None where there is none yet."""
    try:
        path = resolve_checkpoint(train_dir)
    except (FileNotFoundError, ValueError):
        return None
    stat = os.stat(path)
    return dict(path=osp.abspath(path), size=stat.st_size, mtime_ns=stat.st_mtime_ns)


class RowRun:
    """One row: where it trains and is tested, and what was done before."""

    def __init__(self, *, row: dict, work_dir: str, options: Sequence[str],
                 parsed: Dict[str, Any], allow_new_keys: bool) -> None:
        self.model = row['Model']
        self.trained_as = row.get('Trained as') or self.model
        self.config = model_info(self.model)['Config']
        self.train_config = model_info(self.trained_as)['Config']
        self.train_dir = osp.join(work_dir, self.trained_as)
        self.row_dir = osp.join(work_dir, self.model)
        self.test_dir = osp.join(self.row_dir, 'test')
        self.options = list(options) + (['--allow-new-keys'] if allow_new_keys and options else [])
        self.train_hash = config_hash(self.trained_as, parsed, allow_new_keys)
        self.test_hash = config_hash(self.model, parsed, allow_new_keys)
        self.state_file = osp.join(self.train_dir, 'training.json')
        self.record_file = osp.join(self.row_dir, 'row.json')

    def training_state(self) -> dict:
        """The training's state; a :class:`ToolError` when the work dir holds a training
        of another config (nothing there is touched)."""
        state = read_json(self.state_file) or {}
        if state and state.get('config_hash') != self.train_hash:
            raise ToolError(f'{shown(self.train_dir)} holds a training of {self.trained_as} '
                            'with other settings (its config or --cfg-options changed); '
                            'pass another --work-dir, or remove that folder to train again')
        return state

    def done_before(self) -> Optional[dict]:
        """The row's metrics when its config and checkpoint are those they came from."""
        record = read_json(self.record_file)
        if not record or record.get('config_hash') != self.test_hash or \
                not self.training_state().get('finished'):
            return None
        now = checkpoint_identity(self.train_dir)
        return record['metrics'] if now and now == record.get('checkpoint') else None

    def commands(self) -> List[List[str]]:
        """The training (unless finished) and the test this row still needs."""
        cmds = [] if self.training_state().get('finished') else \
            [train_command(self.train_config, self.train_dir, self.options)]
        return cmds + [test_command(self.config, self.train_dir, self.test_dir, self.options)]

    def run(self) -> Dict[str, float]:
        """Train (resuming) unless finished, test, record; the row's metrics."""
        if not self.training_state().get('finished'):
            write_json(dict(config_hash=self.train_hash, finished=False), self.state_file)
            run_logged(train_command(self.train_config, self.train_dir, self.options),
                       osp.join(self.train_dir, 'train.log'))
            write_json(dict(config_hash=self.train_hash, finished=True), self.state_file)
        run_logged(test_command(self.config, self.train_dir, self.test_dir, self.options),
                   osp.join(self.row_dir, 'test.log'))
        metrics = read_json(osp.join(self.test_dir, 'metrics.json'))
        if metrics is None:
            raise ToolError(f'{shown(self.test_dir)}: tools/test.py wrote no metrics.json; '
                            f'see {shown(osp.join(self.row_dir, "test.log"))}')
        write_json(dict(model=self.model, config_hash=self.test_hash, metrics=metrics,
                        checkpoint=checkpoint_identity(self.train_dir)), self.record_file)
        return metrics


def write_json(value: Any, path: str) -> None:
    write_text_atomically(json.dumps(value, indent=2) + '\n', path)


def reference(model: str, source: str, metrics: Sequence[str]) -> Dict[str, Optional[float]]:
    """The row's reference figures: the metafile results of ``source`` ('paper':
    reported by the paper, 'measured': measured with this code before), together (the
    paper gives a model's localisation and detection figures in separate tables; a later
    result of a metric replaces an earlier one)."""
    phrase = SOURCES[source][0]
    found: Dict[str, Any] = {}
    for result in model_info(model).get('Results') or []:
        if result.get('Source', '').startswith(phrase):
            found.update(result['Metrics'])
    return {k: found.get(k) for k in metrics}


def table_record(table: dict, rows: List[dict], measured: Dict[str, dict]) -> dict:
    """The table as data: each row's measured metrics and reference figures."""
    metrics = table['Metrics']
    source = table.get('Reference', 'paper')
    return dict(table=table['Name'], caption=table['Caption'], metrics=metrics,
                reference=SOURCES[source][1].strip('()'), rows=[
                    dict(model=row['Model'], label=row['Label'],
                         measured={k: measured[row['Model']].get(k) for k in metrics},
                         reference=reference(row['Model'], source, metrics))
                    for row in rows])


def cells(record: dict) -> List[List[str]]:
    """The table's header and rows as text: each metric, then its reference figure."""
    label = f'({record["reference"]})'
    head = ['Method', 'model']
    for metric in record['metrics']:
        head += [metric, f'{metric} {label}']

    def text(value: Optional[float]) -> str:
        return '-' if value is None else f'{value:.2f}'
    lines = [head]
    for row in record['rows']:
        line = [row['label'], row['model']]
        for metric in record['metrics']:
            line += [text(row['measured'][metric]), text(row['reference'][metric])]
        lines.append(line)
    return lines


def markdown(record: dict) -> str:
    lines = cells(record)
    text = [f'{record["table"]}: {record["caption"]}', '',
            '| ' + ' | '.join(lines[0]) + ' |', '|' + '---|' * len(lines[0])]
    return '\n'.join(text + ['| ' + ' | '.join(line) + ' |' for line in lines[1:]]) + '\n'


def write_table(record: dict, work_dir: str) -> str:
    """The table as ``<name>.md``, ``.csv`` and ``.json`` in ``work_dir``; the markdown."""
    base = osp.join(work_dir, record['table'])
    text = markdown(record)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator='\n').writerows(cells(record))
    write_text_atomically(text, base + '.md')
    write_text_atomically(buffer.getvalue(), base + '.csv')
    write_json(record, base + '.json')
    return text


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    tables = model_tables()
    if args.list:
        for name, table in tables.items():
            print(f'{name}: {table["Caption"]} ({", ".join(r["Model"] for r in table["Rows"])})')
        return
    table = find_table(args.table, tables)
    rows = chosen_rows(table, args.rows)
    parsed = options_dict(args.cfg_options)
    runs = [RowRun(row=row, work_dir=args.work_dir, options=args.cfg_options, parsed=parsed,
                   allow_new_keys=args.allow_new_keys) for row in rows]
    for run in runs:  # a work dir of other settings is refused before any work
        run.training_state()
    measured = {}
    for i, run in enumerate(runs, 1):
        head = f'[{i}/{len(runs)}] {run.model}'
        done = run.done_before()
        if done is not None:
            print(f'{head}: done before ({shown(run.record_file)})', flush=True)
            measured[run.model] = done
        elif args.dry_run:
            print(f'{head}:', flush=True)
            for cmd in run.commands():
                print('  python ' + ' '.join(cmd[1:]))
        else:
            print(f'{head}: training and testing in {shown(run.train_dir)}', flush=True)
            try:
                measured[run.model] = run.run()
            except RuntimeError as err:
                raise ToolError(f'row {run.model}: {one_line(err)}') from err
    if args.dry_run:
        return
    print(write_table(table_record(table, rows, measured), args.work_dir), end='')


if __name__ == '__main__':
    run_tool(main, TOOL)
