"""A config with custom_imports makes stock mmseg tooling find every DADF module."""
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import sys
    from mmengine.config import Config
    from mmseg.registry import DATASETS, METRICS, MODELS, TRANSFORMS
    from mmseg.utils import register_all_modules
    register_all_modules()
    assert 'dadf_mm' not in sys.modules
    cfg = Config.fromfile(sys.argv[1])
    model = MODELS.build(cfg.model)
    print(type(model).__name__, type(model.backbone).__name__, type(model.neck).__name__,
          type(model.decode_head).__name__)
    print(all(r.get(n) is not None for r, n in [
        (METRICS, 'ForgeryMetric'), (TRANSFORMS, 'PackForgeryInputs'),
        (DATASETS, 'FFPPDataset')]))
''')

CONFIG = textwrap.dedent('''
    custom_imports = dict(imports=['dadf_mm'], allow_failed_imports=False)
    model = dict(
        type='DADF',
        data_preprocessor=dict(type='SegDataPreProcessor', size=(64, 64)),
        backbone=dict(type='SAMViT', img_size=64, window_size=2, adapter=dict(inner_channels=8),
                      arch=dict(embed_dim=32, depth=2, num_heads=2, global_attn_indexes=[1])),
        neck=dict(type='RGANeck'),
        decode_head=dict(type='SAMMaskDecoderHead'))
''')


def test_custom_imports_registers_everything(tmp_path):
    cfg = tmp_path / 'dadf_custom.py'
    cfg.write_text(CONFIG)
    out = subprocess.run([sys.executable, '-c', SCRIPT, str(cfg)], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    lines = out.stdout.strip().splitlines()
    assert lines[-2] == 'DADF SAMViT RGANeck SAMMaskDecoderHead'
    assert lines[-1] == 'True'
