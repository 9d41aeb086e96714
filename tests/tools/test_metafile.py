"""The model index: every config of configs/dadf and configs/baselines has one metafile
entry and every entry a config; every model is found by name, by dadf_mm.apis.model_index
and by mmengine's own metafile reader; the results it states are those of
configs/dadf/README.md."""
import glob
import os.path as osp
import re

import pytest
from mmengine.config import Config
from mmengine.fileio import load
from mmengine.infer import BaseInferencer

from dadf_mm.apis.model_index import (
    ModelNotFoundError,
    find_model,
    iter_models,
    list_models,
    load_model_config,
    model_index_root,
)

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
METAFILE = 'configs/dadf/metafile.yaml'
MODEL_KEYS = {'Name', 'In Collection', 'Config', 'Metadata', 'Results', 'Weights'}


@pytest.fixture(scope='module')
def metafile():
    return load(osp.join(ROOT, METAFILE))


def shipped_configs():
    paths = glob.glob(osp.join(ROOT, 'configs', 'dadf', '**', '*.py'), recursive=True)
    paths += glob.glob(osp.join(ROOT, 'configs', 'baselines', '*.py'))
    return sorted(osp.relpath(p, ROOT) for p in paths)


def test_every_config_has_one_entry_and_every_entry_a_config(metafile):
    listed = [m['Config'] for m in metafile['Models']]
    assert len(listed) == len(set(listed))
    configs = shipped_configs()
    assert len(configs) > 40  # the search finds the configs
    assert sorted(listed) == configs
    names = [m['Name'] for m in metafile['Models']]
    assert len(names) == len(set(names))
    for model in metafile['Models']:
        assert model['Name'] == osp.splitext(osp.basename(model['Config']))[0]


def test_entries_have_mmseg_metafile_fields(metafile):
    collections = {c['Name'] for c in metafile['Collections']}
    for collection in metafile['Collections']:
        assert osp.isfile(osp.join(ROOT, collection['README']))
        assert collection['Paper']['URL'].startswith('https://')
    for model in metafile['Models']:
        assert MODEL_KEYS <= set(model), model['Name']
        assert model['In Collection'] in collections
        assert model['Weights'] is None  # no trained weights are published
        meta = model['Metadata']
        assert meta['Batch Size'] > 0 and meta['Input Size'] % 16 == 0, model['Name']
        for result in model['Results'] or []:
            assert {'Task', 'Dataset', 'Metrics', 'Source'} <= set(result), model['Name']
            assert result['Metrics'] and all(
                isinstance(v, (int, float)) for v in result['Metrics'].values())
            assert re.match(r'(reported by the paper|measured with this code)',
                            result['Source'])


def test_the_repository_index_imports_the_metafile():
    assert model_index_root() == ROOT
    index = load(osp.join(ROOT, 'model-index.yml'))
    assert index['Import'] == [METAFILE]


def test_every_model_is_found_by_name_and_loads(metafile):
    names = list_models()
    assert names == [m['Name'] for m in metafile['Models']]
    for model in metafile['Models']:
        assert find_model(model['Name']) == osp.join(ROOT, model['Config'])
        assert find_model(model['Name'].upper()) == osp.join(ROOT, model['Config'])
    cfg, weights = load_model_config('dadf_vit-h_ffpp-hq')
    assert cfg.model.type == 'DADF' and cfg.model.backbone.arch == 'vit_h'
    assert weights is None
    for path in shipped_configs():
        assert Config.fromfile(osp.join(ROOT, path)).model.type == 'DADF', path


def test_mmengine_reads_the_same_index():
    """mmengine's BaseInferencer finds a package's configs and model-index.yml next to the
    package (a checkout) or in its .mim folder (a wheel): the same index, the same models."""
    root = BaseInferencer._get_repo_or_mim_dir('dadf_mm')
    assert root == ROOT
    found = [m['Name'] for m in BaseInferencer._get_models_from_metafile(root)]
    assert found == [m['Name'] for m in iter_models()]


def test_pattern_and_unknown_names():
    assert list_models(r'dadf_vit-h_ffpp-lq_test-') == [
        'dadf_vit-h_ffpp-lq_test-dfd', 'dadf_vit-h_ffpp-lq_test-dftimit-hq',
        'dadf_vit-h_ffpp-lq_test-dftimit-lq']
    with pytest.raises(ModelNotFoundError, match="'dadf_vit-h_ffpp-h'.*did you mean "
                       'dadf_vit-h_ffpp-hq'):
        find_model('dadf_vit-h_ffpp-h')


def test_an_alias_finds_its_model(tmp_path):
    (tmp_path / 'configs').mkdir()
    (tmp_path / 'configs' / 'a.py').write_text("model = dict(type='DADF')\n")
    (tmp_path / 'meta.yaml').write_text(
        'Models:\n- Name: a\n  Alias: [b]\n  Config: configs/a.py\n  Weights: [w.pth]\n')
    (tmp_path / 'model-index.yml').write_text('Import:\n- meta.yaml\n')
    assert find_model('B', root=str(tmp_path)) == str(tmp_path / 'configs' / 'a.py')
    assert load_model_config('a', root=str(tmp_path))[1] == 'w.pth'


def readme_rows(config: str) -> list:
    """Rows of configs/dadf/README.md's tables that link ``config``, as lists of the
    leading number of each cell (None where a cell starts with none)."""
    target = osp.relpath(osp.join(ROOT, config), osp.join(ROOT, 'configs', 'dadf'))
    rows = []
    for line in open(osp.join(ROOT, 'configs', 'dadf', 'README.md')):
        links = [osp.normpath(link) for link in re.findall(r'\]\(([^)]+\.py)\)', line)]
        if line.startswith('|') and target in links:
            cells = [c.strip() for c in line.strip().strip('|').split('|')]
            rows.append([float(m.group()) if (m := re.match(r'\d+(\.\d+)?', c)) else None
                         for c in cells])
    return rows


def test_stated_results_are_those_of_the_readme(metafile):
    checked = 0
    for model in metafile['Models']:
        for result in model['Results'] or []:
            rows = readme_rows(model['Config'])
            assert any(all(value in row for value in result['Metrics'].values())
                       for row in rows), (model['Name'], result['Metrics'], rows)
            checked += 1
    assert checked >= 15  # the paper's rows and the demo's
