from setuptools import find_packages, setup

setup(
    name='dadf_mm',
    version='0.1.0',
    description='DADF (Segment Anything for face forgery detection and localisation) '
    'as an MMSegmentation 1.x plugin',
    packages=find_packages(include=['dadf_mm', 'dadf_mm.*']),
    package_data={'dadf_mm': ['datasets/splits/*.json']},
    python_requires='>=3.9',
    install_requires=[
        'torch>=2.0', 'torchvision', 'mmengine==0.10.7', 'mmcv>=2.0.0,<2.2.0',
        'mmsegmentation==1.2.2', 'segment-anything', 'opencv-python-headless<5', 'tqdm',
        'scikit-image', 'scipy', 'tensorboard',
    ],
)
