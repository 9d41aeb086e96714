"""tools/analysis_tools/run_table.py: the demo's two-row table (the demo config and its
no-RGA ablation, trained 4 iterations) holds what tools/test.py gives on each row's
checkpoint beside the figures the metafile states; a rerun trains and tests nothing; wrong
names and changed settings are one line; --dry-run prints the commands."""
import json
import os
import os.path as osp
import sys

import pytest

from tests.helpers.tool_runs import FAST_DATA, ROOT, SHORT_RUN, run_process, tool_exit

TOOL = 'tools/analysis_tools/run_table.py'
ROWS = {'dadf_sam-tiny_synthetic-demo': 'configs/dadf/dadf_sam-tiny_synthetic-demo.py',
        'dadf_sam-tiny_no-rga_synthetic-demo':
            'configs/dadf/ablations/demo/dadf_sam-tiny_no-rga_synthetic-demo.py'}
# 4 iterations (best checkpoint at 2 by PBCA), 4 test images
OPTIONS = [*FAST_DATA, *[o for o in SHORT_RUN if not o.startswith('train_cfg.max_iters')],
           'train_cfg.max_iters=4', 'test_dataloader.dataset.num_samples=4',
           'test_dataloader.batch_size=2']
METRICS = ['AUC', 'ACC', 'EER', 'PBCA', 'IINC']
# configs/dadf/README.md's figures of these rows, measured before with this code: the
# current demo's, and the no-RGA row of the RGA ablation
MEASURED_BEFORE = {'dadf_sam-tiny_synthetic-demo': [71.40, 63.00, 35.00, 91.47, 25.77],
                   'dadf_sam-tiny_no-rga_synthetic-demo': [80.95, 75.0, 25.0, 89.94, 14.48]}


def files_state(folder) -> dict:
    """Every file under ``folder`` with its modification time."""
    return {osp.join(d, name): os.stat(osp.join(d, name)).st_mtime_ns
            for d, _, names in os.walk(folder) for name in names}


@pytest.fixture(scope='module')
def demo_table(tmp_path_factory):
    work = tmp_path_factory.mktemp('tables') / 'work'
    proc = run_process([sys.executable, TOOL, 'demo-ablation', '--work-dir', str(work),
                        '--cfg-options', *OPTIONS])
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-3000:])
    return work, proc.stdout


def test_the_demo_table_holds_what_test_py_gives_on_each_row(demo_table, tmp_path):
    work, stdout = demo_table
    with open(work / 'demo-ablation.json') as f:
        table = json.load(f)
    assert [row['model'] for row in table['rows']] == list(ROWS)
    assert table['metrics'] == METRICS
    for row in table['rows']:
        checkpoint = work / row['model']
        assert sorted(p.name for p in checkpoint.glob('*.pth')) == [
            'best_PBCA_iter_2.pth', 'iter_4.pth']
        out = tmp_path / row['model']
        proc = run_process([sys.executable, 'tools/test.py', ROWS[row['model']],
                            str(checkpoint / 'best_PBCA_iter_2.pth'), '--work-dir', str(out),
                            '--out', str(out), '--cfg-options', *OPTIONS])
        assert proc.returncode == 0, proc.stderr[-3000:]
        with open(out / 'metrics.json') as f:
            expected = json.load(f)
        assert row['measured'] == {k: expected[k] for k in METRICS}
        assert [row['reference'][k] for k in METRICS] == MEASURED_BEFORE[row['model']]
    # printed and written beside the reference figures, in columns saying whose they are
    lines = (work / 'demo-ablation.md').read_text().splitlines()
    assert lines[2].startswith('| Method | model | AUC | AUC (measured before) | ACC |')
    first = table['rows'][0]
    assert lines[4].startswith(f"| DADF | dadf_sam-tiny_synthetic-demo | "
                               f"{first['measured']['AUC']:.2f} | 71.40 |")
    assert '\n'.join(lines[2:]) in stdout
    assert (work / 'demo-ablation.csv').read_text().splitlines()[0].startswith(
        'Method,model,AUC,AUC (measured before),')


def test_a_rerun_trains_and_tests_nothing(demo_table):
    work, stdout = demo_table
    before = files_state(work)
    proc = run_process([sys.executable, TOOL, 'demo-ablation', '--work-dir', str(work),
                        '--cfg-options', *OPTIONS])
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.count(': done before (') == 2
    after = files_state(work)
    tables = {k for k in after if osp.basename(k).startswith('demo-ablation.')}
    assert {k: v for k, v in after.items() if k not in tables} == \
        {k: v for k, v in before.items() if k not in tables}
    assert stdout.split('\n', 2)[2] == proc.stdout.split('\n', 2)[2]  # the same table


def test_other_settings_in_a_used_work_dir_are_refused_before_any_work(demo_table):
    work, _ = demo_table
    before = files_state(work)
    options = [o for o in OPTIONS if not o.startswith('train_cfg.max_iters')]
    message = tool_exit('analysis_tools/run_table.py', 'demo-ablation', '--work-dir', work,
                        '--cfg-options', *options, 'train_cfg.max_iters=6')
    assert message.count('\n') == 0 and message.startswith('run_table.py: ')
    assert 'dadf_sam-tiny_synthetic-demo holds a training of' in message
    assert 'another --work-dir' in message
    assert files_state(work) == before


@pytest.mark.parametrize('args, expected', [
    (['table9'], "run_table.py: unknown table 'table9'; known: table1, table1-fmld, "
                 'table2, table3, table4-ablation, table5-adapters, table6-rec-loss, '
                 'baselines, demo-ablation (configs/dadf/tables.yaml)'),
    (['demo-ablation', '--rows', 'dadf_vit-h_ffpp-hq'],
     "run_table.py: table 'demo-ablation' has no row 'dadf_vit-h_ffpp-hq'; its rows: "
     'dadf_sam-tiny_synthetic-demo, dadf_sam-tiny_no-rga_synthetic-demo'),
])
def test_an_unknown_table_or_row_is_one_line_listing_the_known_ones(args, expected, tmp_path):
    assert tool_exit('analysis_tools/run_table.py', *args, '--work-dir', tmp_path) == expected
    assert list(tmp_path.iterdir()) == []


def test_dry_run_prints_the_commands_and_runs_nothing(tmp_path, capsys):
    work = tmp_path / 'work'
    assert tool_exit('analysis_tools/run_table.py', 'table3', '--work-dir', work,
                     '--rows', 'dadf_vit-h_ffpp-lq_test-dfd', '--dry-run') == ''
    lines = capsys.readouterr().out.splitlines()
    train = f'{work}/dadf_vit-h_ffpp-lq'
    test = f'{work}/dadf_vit-h_ffpp-lq_test-dfd/test'
    assert lines == [
        '[1/1] dadf_vit-h_ffpp-lq_test-dfd:',
        f'  python tools/train.py configs/dadf/dadf_vit-h_ffpp-lq.py --work-dir {train} '
        '--resume',
        f'  python tools/test.py configs/dadf/dadf_vit-h_ffpp-lq_test-dfd.py {train} '
        f'--work-dir {test} --out {test} --overwrite-out']
    assert not work.exists()


def test_every_row_of_every_table_is_a_model_of_the_index():
    from dadf_mm.apis.model_index import model_info, model_tables
    tables = model_tables()
    assert {'table1', 'table2', 'table3', 'table4-ablation', 'table5-adapters',
            'table6-rec-loss', 'baselines', 'demo-ablation'} <= set(tables)
    for table in tables.values():
        assert table['Reference'] in ('paper', 'measured') and table['Metrics']
        for row in table['Rows']:
            assert osp.isfile(model_info(row['Model'])['Config'])
            assert osp.isfile(model_info(row.get('Trained as', row['Model']))['Config'])
    assert osp.isfile(osp.join(ROOT, 'configs', 'dadf', 'tables.yaml'))


def test_table1_stands_beside_the_figures_the_paper_reports():
    """The paper's Table 1 (FF++ HQ, PBCA / IINC): SAM 92.97 / 4.25, SAM+LoRA 93.12 / 4.78,
    SAM+Prompt 94.60 / 3.48, DADF 96.64 / 3.21."""
    from dadf_mm.apis.model_index import model_tables
    from tools.analysis_tools.run_table import markdown, table_record
    table = model_tables()['table1']
    measured = {row['Model']: {} for row in table['Rows']}
    record = table_record(table, table['Rows'], measured)
    figures = {row['label']: row['reference'] for row in record['rows']}
    assert figures == {'SAM': {'PBCA': 92.97, 'IINC': 4.25},
                       'SAM+LoRA': {'PBCA': 93.12, 'IINC': 4.78},
                       'SAM+Prompt': {'PBCA': 94.60, 'IINC': 3.48},
                       'DADF': {'PBCA': 96.64, 'IINC': 3.21}}
    lines = markdown(record).splitlines()
    assert lines[2] == '| Method | model | PBCA | PBCA (paper) | IINC | IINC (paper) |'
    assert lines[4] == '| SAM | sam_vit-h_ffpp-hq | - | 92.97 | - | 4.25 |'


def test_an_unfinished_training_resumes_and_a_finished_one_is_only_tested(demo_table, tmp_path,
                                                                           capsys):
    """A copy of the demo table's work dir: the first row's training marked unfinished (as
    a kill leaves it), the second's test record gone."""
    import shutil
    work = tmp_path / 'work'
    shutil.copytree(demo_table[0], work)
    state = work / 'dadf_sam-tiny_synthetic-demo' / 'training.json'
    state.write_text(json.dumps(dict(json.loads(state.read_text()), finished=False)))
    (work / 'dadf_sam-tiny_no-rga_synthetic-demo' / 'row.json').unlink()
    assert tool_exit('analysis_tools/run_table.py', 'demo-ablation', '--work-dir', work,
                     '--dry-run', '--cfg-options', *OPTIONS) == ''
    lines = [line.split(' --cfg-options')[0] for line in capsys.readouterr().out.splitlines()]
    first, second = (f'{work}/{name}' for name in ROWS)
    assert lines == [
        '[1/2] dadf_sam-tiny_synthetic-demo:',
        f'  python tools/train.py {ROWS["dadf_sam-tiny_synthetic-demo"]} --work-dir {first} '
        '--resume',
        f'  python tools/test.py {ROWS["dadf_sam-tiny_synthetic-demo"]} {first} --work-dir '
        f'{first}/test --out {first}/test --overwrite-out',
        '[2/2] dadf_sam-tiny_no-rga_synthetic-demo:',
        f'  python tools/test.py {ROWS["dadf_sam-tiny_no-rga_synthetic-demo"]} {second} '
        f'--work-dir {second}/test --out {second}/test --overwrite-out']


def test_the_ablation_tables_join_a_models_localisation_and_detection_figures():
    """The paper's Table 4 (FF++ HQ; PBCA, IINC, ACC): a model's PBCA / IINC (Table 1) and
    its ACC (Tables 4-6) are separate metafile results, shown side by side."""
    from dadf_mm.apis.model_index import model_tables
    from tools.analysis_tools.run_table import table_record
    table = model_tables()['table4-ablation']
    record = table_record(table, table['Rows'], {row['Model']: {} for row in table['Rows']})
    assert [list(row['reference'].values()) for row in record['rows']] == [
        [92.97, 4.25, 86.27], [96.31, 3.40, 94.48], [95.61, 3.96, 92.64], [96.64, 3.21, 95.94]]
