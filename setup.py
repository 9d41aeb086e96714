import os
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ROOT = os.path.dirname(os.path.abspath(__file__))


class BuildWithModelIndex(build_py):
    """Also copy ``configs/`` and ``model-index.yml`` into the built package's ``.mim``
    folder, where ``dadf_mm.apis.model_index`` (like mmengine for OpenMMLab packages) finds
    them in an installed wheel; an editable install reads them from the repository."""

    def run(self) -> None:
        super().run()
        if getattr(self, 'editable_mode', False):
            return
        mim = os.path.join(self.build_lib, 'dadf_mm', '.mim')
        shutil.rmtree(mim, ignore_errors=True)
        shutil.copytree(os.path.join(ROOT, 'configs'), os.path.join(mim, 'configs'),
                        ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        shutil.copy2(os.path.join(ROOT, 'model-index.yml'), mim)


setup(
    name='dadf_mm',
    version='0.1.0',
    description='DADF (Segment Anything for face forgery detection and localisation) '
    'as an MMSegmentation 1.x plugin',
    packages=find_packages(include=['dadf_mm', 'dadf_mm.*']),
    package_data={'dadf_mm': ['datasets/splits/*.json']},
    cmdclass={'build_py': BuildWithModelIndex},
    python_requires='>=3.9',
    install_requires=[
        'torch>=2.0', 'torchvision', 'mmengine==0.10.7', 'mmcv>=2.0.0,<2.2.0',
        'mmsegmentation==1.2.2', 'segment-anything', 'opencv-python-headless<5', 'tqdm',
        'scikit-image', 'scipy', 'tensorboard',
    ],
)
