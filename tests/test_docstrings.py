"""The public API of ``dadf_mm`` carries OpenMMLab-style typed docstrings.

Checked, statically with :mod:`ast` (nothing is imported), in every module of ``dadf_mm/``
outside :data:`NOT_YET_CHECKED`:

* every public (no leading underscore) module-level function, public class and public method
  of a public class has a docstring;
* methods that override a base-class API which mmseg/mmengine do not redocument are skipped
  (:data:`SKIPPED_METHODS`, ``before_*`` / ``after_*`` hooks, property setters/deleters,
  ``@overload`` stubs); a class's ``__init__`` is documented in the class docstring;
* an ``Args:`` section documents every parameter (``self``/``cls`` excepted) as
  ``name (type): ...`` (``*args`` / ``**kwargs`` may omit the type), names no parameter the
  signature does not have (unless it takes ``**kwargs``), and says ``Defaults to <value>``
  for every parameter with a default;
* a dataclass or NamedTuple without its own ``__init__`` documents its fields the same way,
  under ``Attributes:`` or ``Args:``;
* a function that returns a value (its return annotation is not ``None``/``NoReturn``, or
  it has no annotation and a ``return <value>``) has a ``Returns:`` section whose first line
  is ``type: ...``; a generator that yields values has a ``Yields:`` section of that form;
  a property documents its value as ``Returns:`` or with a leading ``type: ...`` line.

A type is one or more dotted names, each optionally followed by a bracketed part
(``tuple[int, int]``, ``Dict[str, Tensor]``), joined by ``|``, ``or`` or ``,``
(``dict, optional``).
"""
import ast
import os
import os.path as osp
import re
from typing import Dict, Iterator, List, Optional, Tuple

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
PACKAGE = osp.join(ROOT, 'dadf_mm')

# Paths (relative to the repository root, ``/`` separated; a folder ends with ``/``) whose
# docstrings are not checked yet. Empty it as they are converted.
NOT_YET_CHECKED: Tuple[str, ...] = ()

# Overrides of documented mmseg/mmengine/torch APIs, not redocumented by that convention.
SKIPPED_METHODS = frozenset({
    '__init__', 'forward', 'transform', 'process', 'compute_metrics', 'loss', 'predict',
    'init_weights', 'train'
})
SKIPPED_PREFIXES = ('before_', 'after_')

SECTION = re.compile(r'^(Args|Arguments|Attributes|Returns|Yields|Raises|Note|Notes|Warning|'
                     r'Warnings|Example|Examples|References|See Also|Todo):\s*$')
ENTRY = re.compile(r'^(\*{0,2}[A-Za-z_]\w*)(?: \((.+)\))?:(?:\s|$)')
TYPED_LINE = re.compile(r'^([^:]+):(?:\s|$)')
DEFAULTS = re.compile(r'Defaults to [^\s.]')
TYPE_WORDS = re.compile(r'^[A-Za-z_][\w.]*(?:\s*(?:\||,|\bor\b)\s*[A-Za-z_][\w.]*)*$')


def _is_type(text: str) -> bool:
    """Whether ``text`` reads as a type (see the module docstring).

    Args:
        text (str): The candidate, e.g. ``Optional[Tensor]`` or ``dict, optional``.

    Returns:
        bool: True for a type.
    """
    depth, kept = 0, []
    for char in text.strip():
        if char in '[(':
            if depth == 0 and (not kept or not re.match(r'[\w.]', kept[-1])):
                return False  # a bracket must follow a name
            depth += 1
        elif char in '])':
            depth -= 1
            if depth < 0:
                return False
        elif depth == 0:
            kept.append(char)
    return depth == 0 and bool(TYPE_WORDS.match(''.join(kept).strip()))


def _sections(doc: str) -> Dict[str, List[str]]:
    """Split a cleaned docstring into its sections.

    Args:
        doc (str): The docstring as :func:`inspect.cleandoc` leaves it.

    Returns:
        dict[str, list[str]]: Section title -> its body lines, dedented, blank lines kept
        inside and stripped at the ends.
    """
    sections: Dict[str, List[str]] = {}
    current: Optional[List[str]] = None
    lines = doc.splitlines()
    for i, line in enumerate(lines):
        match = SECTION.match(line)
        if match and (i + 1 < len(lines) and lines[i + 1].startswith((' ', '\t'))):
            current = sections.setdefault(match.group(1), [])
            continue
        if line and not line[0].isspace():
            current = None  # back at the docstring's own indentation: the section ended
        if current is not None:
            current.append(line)
    for title, body in sections.items():
        indent = min((len(ln) - len(ln.lstrip()) for ln in body if ln.strip()), default=0)
        body = [ln[indent:] for ln in body]
        while body and not body[-1].strip():
            body.pop()
        sections[title] = body
    return sections


def _entries(body: List[str]) -> Dict[str, Tuple[Optional[str], str]]:
    """The ``name (type): text`` entries of an ``Args:``/``Attributes:`` section.

    Args:
        body (list[str]): The dedented section body.

    Returns:
        dict[str, tuple[str | None, str]]: Name (stars stripped) -> (type or None, the text
        of the entry including its continuation lines). A line at the body's own
        indentation that is not an entry is reported under the key ``''``.
    """
    entries: Dict[str, Tuple[Optional[str], str]] = {}
    name = None
    for line in body:
        if not line.strip():
            continue
        if line[0].isspace():
            if name is not None:
                typ, text = entries[name]
                entries[name] = (typ, text + ' ' + line.strip())
            continue
        match = ENTRY.match(line)
        if match is None:
            name = ''
            entries[''] = (None, line)
            continue
        name = match.group(1).lstrip('*')
        entries[name] = (match.group(2), line)
    return entries


def _own_nodes(func: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function body outside nested functions, classes and lambdas.

    Args:
        func (ast.AST): A function definition.

    Yields:
        ast.AST: Each node that belongs to ``func`` itself.
    """
    stack = list(ast.iter_child_nodes(func))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _is_none(node: Optional[ast.AST]) -> bool:
    """Whether ``node`` is absent or the constant None.

    Args:
        node (ast.AST, optional): An expression node.

    Returns:
        bool: True for no node or ``None``.
    """
    return node is None or (isinstance(node, ast.Constant) and node.value is None)


def _decorator_names(node: ast.AST) -> List[str]:
    """The last dotted component of each decorator of ``node``.

    Args:
        node (ast.AST): A function or class definition.

    Returns:
        list[str]: E.g. ``['property']`` or ``['setter']`` or ``['dataclass']``.
    """
    names = []
    for dec in node.decorator_list:
        dec = dec.func if isinstance(dec, ast.Call) else dec
        if isinstance(dec, ast.Attribute):
            names.append(dec.attr)
        elif isinstance(dec, ast.Name):
            names.append(dec.id)
    return names


def _check_entries(where: str, sections: Dict[str, List[str]], titles: Tuple[str, ...],
                   params: List[Tuple[str, bool, bool]], open_ended: bool) -> List[str]:
    """Check the parameter entries of a docstring against a signature.

    Args:
        where (str): ``file:line name`` for the messages.
        sections (dict[str, list[str]]): The docstring's sections.
        titles (tuple[str, ...]): The section titles that may hold the entries.
        params (list[tuple[str, bool, bool]]): (name, has a default, is starred) per
            parameter.
        open_ended (bool): Whether the signature takes ``**kwargs`` (then entries for names
            outside it are allowed).

    Returns:
        list[str]: One message per violation.
    """
    if not params:
        return []
    bodies = [sections[t] for t in titles if t in sections]
    if not bodies:
        return [f'{where}: no {" or ".join(t + ":" for t in titles)} section for '
                f'{", ".join(p[0] for p in params)}']
    entries: Dict[str, Tuple[Optional[str], str]] = {}
    for body in bodies:
        entries.update(_entries(body))
    problems = []
    if '' in entries:
        problems.append(f'{where}: {titles[0]} line is not "name (type): ...": '
                        f'{entries[""][1].strip()!r}')
    names = set()
    for name, has_default, starred in params:
        names.add(name)
        if name not in entries:
            problems.append(f'{where}: parameter {name!r} is not documented')
            continue
        typ, text = entries[name]
        if typ is None and not starred:
            problems.append(f'{where}: parameter {name!r} has no "(type)"')
        elif typ is not None and not _is_type(typ):
            problems.append(f'{where}: parameter {name!r}: {typ!r} is not a type')
        if has_default and not DEFAULTS.search(text):
            problems.append(f'{where}: parameter {name!r} has a default but no "Defaults to"')
    if not open_ended:
        for name in sorted(set(entries) - names - {''}):
            problems.append(f'{where}: documents {name!r}, which is not a parameter')
    return problems


def _check_typed_section(where: str, sections: Dict[str, List[str]], title: str) -> List[str]:
    """Check that a ``Returns:``/``Yields:`` section exists and starts with ``type: ...``.

    Args:
        where (str): ``file:line name`` for the messages.
        sections (dict[str, list[str]]): The docstring's sections.
        title (str): ``'Returns'`` or ``'Yields'``.

    Returns:
        list[str]: One message per violation.
    """
    body = [ln for ln in sections.get(title, []) if ln.strip()]
    if not body:
        return [f'{where}: no {title}: section']
    match = TYPED_LINE.match(body[0])
    if match is None or not _is_type(match.group(1)):
        return [f'{where}: {title}: does not start with "type: ...": {body[0].strip()!r}']
    return []


def _signature(func: ast.AST, is_method: bool) -> Tuple[List[Tuple[str, bool, bool]], bool]:
    """The documented parameters of a function.

    Args:
        func (ast.AST): A function definition.
        is_method (bool): Whether the first positional parameter is ``self``/``cls``
            (not for a ``@staticmethod``).

    Returns:
        tuple[list[tuple[str, bool, bool]], bool]: (name, has a default, is starred) per
        parameter, and whether it takes ``**kwargs``.
    """
    args = func.args
    positional = args.posonlyargs + args.args
    defaults = [False] * (len(positional) - len(args.defaults)) + [True] * len(args.defaults)
    params = [(a.arg, d, False) for a, d in zip(positional, defaults)]
    if is_method and params:
        params = params[1:]
    if args.vararg:
        params.append((args.vararg.arg, False, True))
    params += [(a.arg, d is not None, False) for a, d in zip(args.kwonlyargs, args.kw_defaults)]
    if args.kwarg:
        params.append((args.kwarg.arg, False, True))
    return params, args.kwarg is not None


def _check_function(path: str, func: ast.AST, qualname: str, is_method: bool) -> List[str]:
    """All rules for one function or method.

    Args:
        path (str): The module's path relative to the repository root.
        func (ast.AST): The function definition.
        qualname (str): ``name`` or ``Class.name`` for the messages.
        is_method (bool): Whether it is defined in a class.

    Returns:
        list[str]: One message per violation.
    """
    where = f'{path}:{func.lineno} {qualname}'
    decorators = _decorator_names(func)
    if {'setter', 'deleter', 'overload'} & set(decorators):
        return []
    doc = ast.get_docstring(func)
    if not doc:
        return [f'{where}: no docstring']
    sections = _sections(doc)
    if 'property' in decorators or 'cached_property' in decorators:
        if 'Returns' in sections:
            return _check_typed_section(where, sections, 'Returns')
        match = TYPED_LINE.match(doc.splitlines()[0])
        if match is None or not _is_type(match.group(1)):
            return [f'{where}: property docstring starts with no "type: ..." and has no '
                    'Returns: section']
        return []
    params, open_ended = _signature(func, is_method and 'staticmethod' not in decorators)
    problems = _check_entries(where, sections, ('Args', 'Arguments'), params, open_ended)
    own = list(_own_nodes(func))
    yields = [n for n in own if isinstance(n, (ast.Yield, ast.YieldFrom))]
    if yields:
        if any(isinstance(n, ast.YieldFrom) or not _is_none(n.value) for n in yields):
            problems += _check_typed_section(where, sections, 'Yields')
        return problems
    ann = func.returns
    if ann is not None:
        returns = not (_is_none(ann) or (isinstance(ann, ast.Name)
                                         and ann.id in ('NoReturn', 'Never')))
    else:
        returns = any(isinstance(n, ast.Return) and not _is_none(n.value) for n in own)
    if returns:
        problems += _check_typed_section(where, sections, 'Returns')
    return problems


def _check_class(path: str, cls: ast.ClassDef) -> List[str]:
    """All rules for one public class and its public methods.

    Args:
        path (str): The module's path relative to the repository root.
        cls (ast.ClassDef): The class definition.

    Returns:
        list[str]: One message per violation.
    """
    where = f'{path}:{cls.lineno} {cls.name}'
    doc = ast.get_docstring(cls)
    problems = [] if doc else [f'{where}: no docstring']
    sections = _sections(doc or '')
    init = next((n for n in cls.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and n.name == '__init__'), None)
    bases = {b.id if isinstance(b, ast.Name) else getattr(b, 'attr', '') for b in cls.bases}
    if doc and init is not None:
        params, open_ended = _signature(init, True)
        problems += _check_entries(where, sections, ('Args', 'Arguments'), params, open_ended)
    elif doc and ('dataclass' in _decorator_names(cls) or 'NamedTuple' in bases):
        fields = [(n.target.id, n.value is not None, False) for n in cls.body
                  if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)
                  and 'ClassVar' not in ast.dump(n.annotation)]
        problems += _check_entries(where, sections, ('Attributes', 'Args', 'Arguments'),
                                   fields, False)
    for node in cls.body:
        if isinstance(node, ast.ClassDef) and not node.name.startswith('_'):
            problems += _check_class(path, node)
        elif (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
              and not node.name.startswith('_') and node.name not in SKIPPED_METHODS
              and not node.name.startswith(SKIPPED_PREFIXES)):
            problems += _check_function(path, node, f'{cls.name}.{node.name}', True)
    return problems


def _checked_modules() -> List[str]:
    """The modules of ``dadf_mm`` that the rules apply to.

    Returns:
        list[str]: Paths relative to the repository root, ``/`` separated, sorted.
    """
    paths = []
    for dirpath, dirnames, filenames in os.walk(PACKAGE):
        dirnames[:] = sorted(d for d in dirnames if d != '__pycache__')
        for filename in sorted(filenames):
            if filename.endswith('.py'):
                rel = osp.relpath(osp.join(dirpath, filename), ROOT).replace(os.sep, '/')
                if not any(rel == p or (p.endswith('/') and rel.startswith(p))
                           for p in NOT_YET_CHECKED):
                    paths.append(rel)
    return sorted(paths)


def docstring_problems(path: str, root: str = ROOT) -> List[str]:
    """Every violation of the rules in one module.

    Args:
        path (str): The module's path relative to ``root``.
        root (str): The folder ``path`` is relative to. Defaults to the repository root.

    Returns:
        list[str]: One ``file:line name: what is missing`` message per violation.
    """
    with open(osp.join(root, path), encoding='utf-8') as f:
        tree = ast.parse(f.read(), filename=path)
    problems = []
    for node in tree.body:
        if getattr(node, 'name', '_').startswith('_'):
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            problems += _check_function(path, node, node.name, False)
        elif isinstance(node, ast.ClassDef):
            problems += _check_class(path, node)
    return problems


def test_not_yet_checked_paths_exist():
    """Every excluded path still exists, so the exclusions cannot outlive their files."""
    missing = [p for p in NOT_YET_CHECKED if not osp.exists(osp.join(ROOT, p))]
    assert not missing, f'NOT_YET_CHECKED names missing paths: {missing}'


def test_public_api_docstrings():
    """Every public function, class and method documents its arguments and return value."""
    modules = _checked_modules()
    assert modules, 'no module found under dadf_mm/'
    problems = [p for path in modules for p in docstring_problems(path)]
    assert not problems, (f'{len(problems)} docstring problems (OpenMMLab style: '
                          '"Args:" with "name (type): ... Defaults to X.", typed "Returns:"):\n'
                          + '\n'.join(problems))


def test_rules_catch_violations(tmp_path):
    """The checker flags each kind of violation and accepts a well-formed docstring."""
    source = '''
def good(a: int, b: str = 'x', *args, **kwargs) -> int:
    """Good.

    Args:
        a (int): A.
        b (str): B. Defaults to 'x'.
        *args: More.
        **kwargs (dict): Keywords.

    Returns:
        int: The sum.
    """
    return a


def bad(a, b=1, c=2, e=3) -> int:
    """Bad.

    Args:
        a: A.
        b (int): B.
        e (int): E. Defaults to.
        d (int): Stale.
    """
    return a


def gen(n: int):
    """Gen.

    Args:
        n (int): Count.

    Returns:
        int: Wrong section.
    """
    yield n


class Box:
    """A box.

    Args:
        size (tuple[int, int]): Size.
    """

    def __init__(self, size, scale=1.0):
        pass

    @property
    def area(self):
        """The area."""
        return 1

    def forward(self, x):
        return x
'''
    path = tmp_path / 'mod.py'
    path.write_text(source)
    problems = docstring_problems('mod.py', str(tmp_path))
    text = '\n'.join(problems)
    assert 'good' not in text, text
    expected = [
        "bad: parameter 'a' has no \"(type)\"",
        "bad: parameter 'b' has a default but no \"Defaults to\"",
        "bad: parameter 'c' is not documented",
        "bad: parameter 'e' has a default but no \"Defaults to\"",
        "bad: documents 'd', which is not a parameter",
        'bad: no Returns: section',
        'gen: no Yields: section',
        "Box: parameter 'scale' is not documented",
        'Box.area: property docstring starts with no "type: ..."',
    ]
    for item in expected:
        assert item in text, f'{item!r} not in:\n{text}'
    assert 'forward' not in text, text
    assert len(problems) == len(expected), text
