"""The docs' commands name files that exist, the README's fresh-machine commands are what
.ci/run runs, and the parameter table of docs/performance.md is what
tools/analysis_tools/parameter_report.py prints."""
import glob
import importlib.util
import os.path as osp
import re
import sys
from typing import Iterator, List, Set

import pytest

from tests.test_docs_links import expand

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PARAMETER_DOC = 'docs/performance.md'
DOCS = ['README.md', 'configs/dadf/README.md'] + sorted(
    osp.relpath(p, ROOT) for p in glob.glob(osp.join(ROOT, 'docs', '*.md')))
#: a file of the repository that a command runs or reads: tools/... or configs/..., or a
#: shell script, possibly with {a,b} alternatives or a * pattern
FILE = re.compile(r'(?<![\w./-])((?:tools|configs)/[\w./{},*-]+\.(?:py|sh)|[\w./-]+\.sh)\b')
COMMAND = re.compile(r'^\s*(?:\$\w+|[A-Z_]+=\S*\s+)*(?:\.venv/bin/)?(?:python3?|bash)\s')


def command_lines(text: str) -> Iterator[str]:
    """Lines of fenced code blocks, and inline code spans that run python or bash."""
    fenced = re.compile(r'^[ \t]*```[^\n]*\n(.*?)^[ \t]*```', re.S | re.M)
    for block in fenced.findall(text):
        yield from block.splitlines()
    for span in re.findall(r'`([^`\n]+)`', fenced.sub('', text)):
        if COMMAND.match(span):
            yield span



def named_files(doc: str) -> Set[str]:
    """Every file a command line of ``doc`` names."""
    with open(osp.join(ROOT, doc), encoding='utf-8') as f:
        return {m for line in command_lines(f.read()) for m in FILE.findall(line)}


@pytest.mark.parametrize('doc', DOCS)
def test_commands_name_existing_files(doc):
    missing = [name for name in sorted(named_files(doc)) for path in expand(name)
               if not glob.glob(osp.join(ROOT, path))]
    assert not missing, f'{doc} runs files that do not exist: {missing}'


def test_the_extraction_finds_the_documented_commands():
    names = named_files('README.md')
    for name in ('tools/setup_env.sh', 'tools/train.py', 'configs/dadf/dadf_vit-h_ffpp-hq.py'):
        assert name in names, sorted(names)
    names = named_files(PARAMETER_DOC)
    for name in ('tools/analysis_tools/parameter_report.py',
                 'tools/analysis_tools/benchmark_speed.py',
                 'tools/analysis_tools/rga_precision_study.py'):
        assert name in names, sorted(names)
    assert expand('c/{a,b}_{x,y}.py') == ['c/a_x.py', 'c/a_y.py', 'c/b_x.py', 'c/b_y.py']
    assert list(command_lines('run `bash tools/x.sh` and see `docs/y.md`')) == [
        'bash tools/x.sh']


def ci_commands() -> List[str]:
    """The commands .ci/run runs, after its preamble (shebang, comments, set, cd)."""
    with open(osp.join(ROOT, '.ci', 'run'), encoding='utf-8') as f:
        lines = [line.strip() for line in f]
    return [line for line in lines
            if line and not line.startswith(('#', 'set ', 'cd '))]


def test_the_readme_fresh_machine_commands_are_what_ci_runs():
    commands = ci_commands()
    assert commands == ['bash tools/setup_env.sh', '.venv/bin/python -m pytest -q tests']
    with open(osp.join(ROOT, 'README.md'), encoding='utf-8') as f:
        lines = [line.strip() for line in command_lines(f.read())]
    start = lines.index(commands[0]) if commands[0] in lines else -1
    assert lines[start:start + len(commands)] == commands, (
        f'README.md must show .ci/run\'s commands, one a line, in order: {commands}')


def readme_parameter_table() -> List[tuple]:
    """(arch, total, trainable, SAM, share in %) of "Trainable parameters" in
    docs/performance.md."""
    with open(osp.join(ROOT, PARAMETER_DOC), encoding='utf-8') as f:
        text = f.read()
    section = text.split('## Trainable parameters', 1)[1].split('\n#', 1)[0]
    rows = re.findall(r'^\| (vit_\w) \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \| ([\d.]+) % \|$',
                      section, flags=re.M)
    return [(a, int(t.replace(',', '')), int(tr.replace(',', '')), int(s.replace(',', '')),
             float(share)) for a, t, tr, s, share in rows]


def test_readme_parameter_table_is_what_the_tool_prints(monkeypatch, capsys):
    path = osp.join(ROOT, 'tools', 'analysis_tools', 'parameter_report.py')
    spec = importlib.util.spec_from_file_location('dadf_parameter_report', path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    monkeypatch.setattr(sys, 'argv', [path])
    tool.main()  # every arch on the meta device
    printed = re.findall(r'^(vit_\w)\s+([\d,]+)\s+([\d,]+)\s+([\d,]+)\s+([\d.]+)%$',
                         capsys.readouterr().out, flags=re.M)
    assert [r[0] for r in printed] == ['vit_b', 'vit_l', 'vit_h']
    expected = [(a, int(t.replace(',', '')), int(tr.replace(',', '')),
                 int(s.replace(',', '')), float(share)) for a, t, tr, s, share in printed]
    assert readme_parameter_table() == expected
