"""DADF's models by name: the model index (``model-index.yml`` and the metafiles it imports)
read the way mmengine's ``BaseInferencer`` reads an OpenMMLab package's.

In a source checkout or an editable install the index is the repository's
``model-index.yml``, next to ``configs/``; an installed wheel carries both in
``dadf_mm/.mim/`` (``setup.py``). Each metafile entry has a ``Name`` (the config's file
name without ``.py``), optional ``Alias`` names, a ``Config`` path relative to the index and
``Weights`` (null: no trained weights are published).

Example:
    >>> from dadf_mm.apis.model_index import find_model, load_model_config
    >>> find_model('dadf_vit-h_ffpp-hq')
    '.../configs/dadf/dadf_vit-h_ffpp-hq.py'
    >>> cfg, weights = load_model_config('dadf_sam-tiny_synthetic-demo')
"""
import difflib
import os.path as osp
import re
from typing import Dict, Iterator, List, Optional, Tuple

from mmengine.config import Config
from mmengine.fileio import load

MODEL_INDEX = 'model-index.yml'


class ModelNotFoundError(ValueError):
    """No model of the index has the name asked for."""


def model_index_root() -> str:
    """The folder holding ``model-index.yml`` and the ``configs`` it names.

    Returns:
        str: The repository root (source checkout, editable install) or the installed
        package's ``.mim`` folder.
    """
    package = osp.dirname(osp.dirname(osp.abspath(__file__)))
    for root in (osp.dirname(package), osp.join(package, '.mim')):
        if osp.isfile(osp.join(root, MODEL_INDEX)) and osp.isdir(osp.join(root, 'configs')):
            return root
    raise FileNotFoundError(f'no {MODEL_INDEX} with a configs folder next to {package} or in '
                            f"{osp.join(package, '.mim')}: reinstall dadf_mm")


def iter_models(root: Optional[str] = None) -> Iterator[dict]:
    """Every model entry of the metafiles that the index imports, in their order.

    Args:
        root (str, optional): The index's folder. Defaults to :func:`model_index_root`.

    Yields:
        dict: A metafile's model entry (``Name``, ``In Collection``, ``Config``,
        ``Metadata``, ``Results``, ``Weights``, optional ``Alias``).
    """
    root = root or model_index_root()
    for metafile in load(osp.join(root, MODEL_INDEX))['Import']:
        yield from load(osp.join(root, metafile))['Models']


def model_names(entry: dict) -> List[str]:
    """A model entry's name and aliases, lower case (names are matched case-insensitively,
    as mmengine does).

    Args:
        entry (dict): A metafile's model entry (``Name``, optional ``Alias``: one name or a
            list).

    Returns:
        list[str]: The name, then the aliases, lower case.
    """
    aliases = entry.get('Alias') or []
    if isinstance(aliases, str):
        aliases = [aliases]
    return [name.lower() for name in [entry['Name'], *aliases]]


def list_models(pattern: str = r'.*', *, root: Optional[str] = None) -> List[str]:
    """Names of the models whose name matches ``pattern`` (``re.match``).

    Args:
        pattern (str): A regular expression. Defaults to every model.
        root (str, optional): The index's folder. Defaults to :func:`model_index_root`.

    Returns:
        list[str]: The names, in the index's order.
    """
    return [entry['Name'] for entry in iter_models(root) if re.match(pattern, entry['Name'])]


def model_info(name: str, *, root: Optional[str] = None) -> Dict:
    """The metafile entry of the model called ``name`` (or with that alias).

    Args:
        name (str): A model name, e.g. ``'dadf_vit-h_ffpp-hq'``; case does not matter.
        root (str, optional): The index's folder. Defaults to :func:`model_index_root`.

    Returns:
        dict: The entry, its ``Config`` made an absolute path.
    """
    root = root or model_index_root()
    entries = list(iter_models(root))
    for entry in entries:
        if name.lower() in model_names(entry):
            return dict(entry, Config=osp.join(root, entry['Config']))
    nearest = difflib.get_close_matches(name, [e['Name'] for e in entries], n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(nearest)}?" if nearest else ''
    raise ModelNotFoundError(f'no DADF model is called {name!r} in '
                             f'{osp.join(root, MODEL_INDEX)}{hint}')


def find_model(name: str, *, root: Optional[str] = None) -> str:
    """The config file of the model called ``name``.

    Args:
        name (str): A model name, e.g. ``'dadf_vit-h_ffpp-hq'``.
        root (str, optional): The index's folder. Defaults to :func:`model_index_root`.

    Returns:
        str: The config's absolute path.
    """
    return model_info(name, root=root)['Config']


def load_model_config(name: str, *, root: Optional[str] = None
                      ) -> Tuple[Config, Optional[str]]:
    """The config and the weights of the model called ``name``, as mmengine's
    ``BaseInferencer._load_model_from_metafile`` returns them.

    Args:
        name (str): A model name, e.g. ``'dadf_vit-h_ffpp-hq'``.
        root (str, optional): The index's folder. Defaults to :func:`model_index_root`.

    Returns:
        tuple[Config, str | None]: The loaded config and its weights (the first if the
        entry lists several; None where none are published).
    """
    info = model_info(name, root=root)
    weights = info.get('Weights')
    weights = weights[0] if isinstance(weights, list) else weights
    return Config.fromfile(info['Config']), weights


def model_tables(*, root: Optional[str] = None) -> Dict[str, dict]:
    """The tables of results that the metafiles declare (their ``Tables`` key names a file
    of them, e.g. ``configs/dadf/tables.yaml``), by name.

    Args:
        root (str, optional): The index's folder. Defaults to :func:`model_index_root`.

    Returns:
        dict[str, dict]: Each table (``Name``, ``Caption``, ``Metrics``, ``Reference``,
        ``Rows``: dicts with ``Model``, ``Label`` and optional ``Trained as``), in the
        files' order.
    """
    root = root or model_index_root()
    tables: Dict[str, dict] = {}
    for metafile in load(osp.join(root, MODEL_INDEX))['Import']:
        declared = load(osp.join(root, metafile)).get('Tables')
        if declared:
            tables.update((t['Name'], t) for t in load(osp.join(root, declared))['Tables'])
    return tables
