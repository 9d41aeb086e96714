"""Every relative link (with its ``#anchor``) and every repository path in code of
README.md, docs/*.md and configs/**/README.md exists."""
import glob
import os.path as osp
import re
from typing import Iterator, List, Set, Tuple

import pytest

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
#: a Markdown link or image: ``[text](target)`` / ``![alt](target "title")``
LINK = re.compile(r'!?\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)')
#: a path of this repository named in code: a top-level folder, then a file with an
#: extension; ``{a,b}`` alternatives and ``*`` patterns allowed
PATH = re.compile(r'(?<![\w./:-])((?:tools|configs|docs|tests|dadf_mm)/[\w./{},*-]*\.[a-z]+)\b')
FENCE = re.compile(r'^[ \t]*```[^\n]*\n(.*?)^[ \t]*```[^\n]*$', re.S | re.M)


def doc_files(root: str = ROOT) -> List[str]:
    """The documentation: README.md, docs/*.md, configs/**/README.md (relative paths)."""
    found = [osp.join(root, 'README.md')] + glob.glob(osp.join(root, 'docs', '*.md')) + glob.glob(
        osp.join(root, 'configs', '**', 'README.md'), recursive=True)
    return sorted(osp.relpath(path, root) for path in found if osp.isfile(path))


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r'\[([^\]]*)\]\([^)]*\)', r'\1', heading.strip())  # a link: its text
    text = text.replace('`', '').replace('*', '').lower()
    return re.sub(r'[^\w\- ]', '', text).replace(' ', '-')


def anchors(text: str) -> Set[str]:
    """The anchors of a Markdown text's headings (outside code blocks), repeats numbered."""
    found, counts = set(), {}
    for heading in re.findall(r'^#{1,6}\s+(.+?)\s*#*\s*$', FENCE.sub('', text), flags=re.M):
        base = slug(heading)
        found.add(f'{base}-{counts[base]}' if base in counts else base)
        counts[base] = counts.get(base, 0) + 1
    return found


def relative_links(text: str) -> Iterator[str]:
    """Link targets outside code that are not addresses (``http:``, ``mailto:``, ...)."""
    prose = re.sub(r'`[^`\n]*`', '', FENCE.sub('', text))
    for target in LINK.findall(prose):
        if not re.match(r'[a-z][a-z0-9+.-]*:', target, flags=re.I):
            yield target


def code_paths(text: str) -> Set[str]:
    """Repository paths named in fenced code blocks and inline code spans."""
    code = FENCE.findall(text) + re.findall(r'`([^`\n]+)`', FENCE.sub('', text))
    return {path for block in code for path in PATH.findall(block)}


def expand(pattern: str) -> List[str]:
    """``a_{x,y}.py`` -> ``a_x.py``, ``a_y.py`` (shell brace expansion)."""
    match = re.search(r'\{([^{}]*)\}', pattern)
    if not match:
        return [pattern]
    return [path for alt in match.group(1).split(',')
            for path in expand(pattern[:match.start()] + alt + pattern[match.end():])]


def broken_links(doc: str, root: str = ROOT) -> List[Tuple[str, str]]:
    """(link, what is wrong) for each relative link of ``doc`` that leads nowhere."""
    with open(osp.join(root, doc), encoding='utf-8') as f:
        text = f.read()
    broken = []
    for link in relative_links(text):
        path, _, anchor = link.partition('#')
        target = osp.normpath(osp.join(osp.dirname(doc), path)) if path else doc
        full = osp.join(root, target)
        if target.startswith('..') or not osp.exists(full):
            broken.append((link, f'{target} does not exist'))
        elif anchor and target.endswith('.md'):
            with open(full, encoding='utf-8') as f:
                if anchor not in anchors(f.read()):
                    broken.append((link, f'{target} has no heading #{anchor}'))
    return broken


def missing_paths(doc: str, root: str = ROOT) -> List[str]:
    """Paths named in the code of ``doc`` that match no file of the repository."""
    with open(osp.join(root, doc), encoding='utf-8') as f:
        names = code_paths(f.read())
    return sorted(name for name in names
                  if not all(glob.glob(osp.join(root, path)) for path in expand(name)))


def assert_no_broken_links(doc: str, root: str = ROOT) -> None:
    """Fail naming every broken link of ``doc``."""
    broken = broken_links(doc, root)
    assert not broken, f'{doc} links to what does not exist: {broken}'


@pytest.mark.parametrize('doc', doc_files())
def test_every_relative_link_leads_to_a_file_and_heading(doc):
    assert_no_broken_links(doc)


@pytest.mark.parametrize('doc', doc_files())
def test_every_path_in_code_exists(doc):
    missing = missing_paths(doc)
    assert not missing, f'{doc} names files that do not exist: {missing}'


def test_the_documentation_is_found_and_indexed():
    docs = doc_files()
    assert {'README.md', 'docs/README.md', 'docs/performance.md',
            'configs/dadf/README.md'} <= set(docs), docs
    with open(osp.join(ROOT, 'docs', 'README.md'), encoding='utf-8') as f:
        indexed = {osp.normpath(osp.join('docs', link.partition('#')[0]))
                   for link in relative_links(f.read())}
    pages = {doc for doc in docs if doc.startswith('docs/') and doc != 'docs/README.md'}
    assert pages <= indexed, f'pages the index does not list: {sorted(pages - indexed)}'


def test_a_made_up_doc_with_broken_links_and_paths_fails(tmp_path):
    (tmp_path / 'docs').mkdir()
    (tmp_path / 'tools').mkdir()
    (tmp_path / 'tools' / 'train.py').write_text('')
    (tmp_path / 'docs' / 'other.md').write_text(
        '# Other page\n\n## The `--resume` flag: what it does\n\n```bash\n# not a heading\n```\n')
    (tmp_path / 'README.md').write_text(
        '# Title\n\n## Fresh start\n\n'
        'See [other](docs/other.md), [its flag](docs/other.md#the---resume-flag-what-it-does),'
        ' [here](#fresh-start), [the site](https://example.org/x.md) and `[not](a link)`.\n'
        'Broken: [gone](docs/gone.md), [no heading](docs/other.md#not-a-heading),'
        ' [no local heading](#nowhere), [outside](../elsewhere.md).\n\n'
        '```bash\npython tools/train.py configs/{a,b}.py\n```\n'
        'Run `bash tools/train.py` or `python tools/missing.py`.\n')
    assert doc_files(str(tmp_path)) == ['README.md', 'docs/other.md']
    assert broken_links('README.md', str(tmp_path)) == [
        ('docs/gone.md', 'docs/gone.md does not exist'),
        ('docs/other.md#not-a-heading', 'docs/other.md has no heading #not-a-heading'),
        ('#nowhere', 'README.md has no heading #nowhere'),
        ('../elsewhere.md', '../elsewhere.md does not exist')]
    assert missing_paths('README.md', str(tmp_path)) == ['configs/{a,b}.py',
                                                         'tools/missing.py']
    assert broken_links('docs/other.md', str(tmp_path)) == []
    with pytest.raises(AssertionError, match='docs/gone.md does not exist'):
        assert_no_broken_links('README.md', str(tmp_path))


def test_anchors_follow_github():
    assert slug("RGA's signal under reduced precision") == 'rgas-signal-under-reduced-precision'
    assert slug('`tools/download_sam_checkpoints.py`') == 'toolsdownload_sam_checkpointspy'
    assert slug('Videos: grouped only by a `video_id`') == 'videos-grouped-only-by-a-video_id'
    assert slug('GPU (pending)') == 'gpu-pending'
    assert anchors('# A\n## A\n```\n# B\n```\n') == {'a', 'a-1'}
