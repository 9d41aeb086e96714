"""Cross-dataset test sets: the face crops and lists their converters write.

Each class reads ``<data_root>/annotations/<list>.jsonl`` written by
``tools/dataset_converters/<converter>.py`` (records as in :mod:`.annotation_file`; real
videos have method ``'original'``). None of these datasets ships forgery masks, so they
are detection only (``with_masks=False``): frame and video AUC, EER, ACC. FaceShifter is
an FF++ method: read it with ``FFPPDataset(methods=('FaceShifter',), split='test')``.

=====================  ============================  ==================================
class                  list (under data_root)        converter
=====================  ============================  ==================================
CelebDFDataset         celebdf_<v1|v2>_<split>       celebdf.py --version v1|v2
DFDCDataset            dfdc_<split>                  dfdc.py
DFDCPreviewDataset     dfdcp_<split>                 dfdcp.py
DeeperForensicsDataset deeperforensics_<split>       deeperforensics.py
UADFVDataset           uadfv_test                    uadfv.py
WildDeepfakeDataset    wilddeepfake_<split>          wilddeepfake.py
=====================  ============================  ==================================
"""
from typing import Optional, Tuple

from mmseg.registry import DATASETS

from .forgery_dataset import ForgeryFolderDataset, _default_ann_file


class ConvertedTestSet(ForgeryFolderDataset):
    """A detection-only dataset read from its converter's list ``<prefix>_<split>.jsonl``.

    Args:
        split (str): one of the class's ``SPLITS``: the list read. Defaults to 'test'.
        **kwargs: as :class:`ForgeryFolderDataset`; ``ann_file`` defaults to
            ``annotations/<prefix>_<split>.jsonl`` and ``with_masks`` to False.
    """

    #: the splits the converter writes a list for
    SPLITS: Tuple[str, ...] = ('test', )
    #: the converter's list name before ``_<split>.jsonl``
    LIST_PREFIX = ''

    def __init__(self, *, split: str = 'test', **kwargs) -> None:
        if split not in self.SPLITS:
            raise ValueError(f'{type(self).__name__} split must be one of {list(self.SPLITS)}, '
                             f'got {split!r}')
        self.split = split
        ann_file = _default_ann_file(kwargs, f'{self.list_prefix()}_{split}.jsonl')
        kwargs.setdefault('with_masks', False)
        super().__init__(ann_file=ann_file, **kwargs)

    def list_prefix(self) -> str:
        """The list's name before ``_<split>.jsonl``.

        Returns:
            str: e.g. ``'dfdc'``.
        """
        return self.LIST_PREFIX


@DATASETS.register_module()
class CelebDFDataset(ConvertedTestSet):
    """Celeb-DF v1 or v2 crops made by ``celebdf.py``; detection only.

    ``test`` is the videos of ``List_of_testing_videos.txt``, ``train`` the others.

    Args:
        version (str): ``'v1'`` or ``'v2'``. Defaults to 'v2'.
        split (str): ``'test'`` or ``'train'``. Defaults to 'test'.
        **kwargs: as :class:`ConvertedTestSet`; ``ann_file`` defaults to
            ``annotations/celebdf_<version>_<split>.jsonl``.
    """

    SPLITS = ('test', 'train')
    HOW_TO_MAKE = ('run python tools/dataset_converters/celebdf.py <Celeb-DF download> '
                   '<data_root> --version <v1|v2>')

    def __init__(self, *, version: str = 'v2', split: str = 'test', **kwargs) -> None:
        if version not in ('v1', 'v2'):
            raise ValueError(f"CelebDFDataset version must be 'v1' or 'v2', got {version!r}")
        self.version = version
        super().__init__(split=split, **kwargs)

    def list_prefix(self) -> str:
        """The list's name before ``_<split>.jsonl``.

        Returns:
            str: ``'celebdf_v1'`` or ``'celebdf_v2'``.
        """
        return f'celebdf_{self.version}'


@DATASETS.register_module()
class DFDCDataset(ConvertedTestSet):
    """DFDC crops made by ``dfdc.py``; detection only.

    ``test`` is the official test set with its labels, ``train`` the training parts
    (their ``metadata.json``).

    Args:
        split (str): ``'test'`` or ``'train'``. Defaults to 'test'.
        **kwargs: as :class:`ConvertedTestSet`.
    """

    SPLITS = ('test', 'train')
    LIST_PREFIX = 'dfdc'
    HOW_TO_MAKE = 'run python tools/dataset_converters/dfdc.py <DFDC download> <data_root>'


@DATASETS.register_module()
class DFDCPreviewDataset(ConvertedTestSet):
    """DFDC-Preview (DFDCP) crops made by ``dfdcp.py``; detection only.

    The split is each video's ``set`` in the download's ``dataset.json``.

    Args:
        split (str): ``'test'`` or ``'train'``. Defaults to 'test'.
        **kwargs: as :class:`ConvertedTestSet`.
    """

    SPLITS = ('test', 'train')
    LIST_PREFIX = 'dfdcp'
    HOW_TO_MAKE = ('run python tools/dataset_converters/dfdcp.py <DFDC-Preview download> '
                   '<data_root>')


@DATASETS.register_module()
class DeeperForensicsDataset(ConvertedTestSet):
    """DeeperForensics-1.0 crops made by ``deeperforensics.py``; detection only.

    Fakes are the manipulated videos of the official split lists, reals the FF++ videos
    their faces were swapped onto.

    Args:
        split (str): ``'test'``, ``'train'`` or ``'val'``. Defaults to 'test'.
        variant (str, optional): a perturbed variant's folder (e.g.
            ``'end_to_end_level_3'``): reads ``deeperforensics_<variant>_<split>.jsonl``;
            None or ``'end_to_end'``: the unperturbed swaps. Defaults to None.
        **kwargs: as :class:`ConvertedTestSet`.
    """

    SPLITS = ('test', 'train', 'val')
    LIST_PREFIX = 'deeperforensics'
    HOW_TO_MAKE = ('run python tools/dataset_converters/deeperforensics.py '
                   '<DeeperForensics-1.0 download> <data_root> --ffpp-root <FaceForensics++>')

    def __init__(self, *, split: str = 'test', variant: Optional[str] = None,
                 **kwargs) -> None:
        self.variant = None if variant == 'end_to_end' else variant
        super().__init__(split=split, **kwargs)

    def list_prefix(self) -> str:
        """The list's name before ``_<split>.jsonl``.

        Returns:
            str: ``'deeperforensics'`` or ``'deeperforensics_<variant>'``.
        """
        return '_'.join(filter(None, (self.LIST_PREFIX, self.variant)))


@DATASETS.register_module()
class UADFVDataset(ConvertedTestSet):
    """UADFV crops made by ``uadfv.py``; every video is a test video; detection only.

    Args:
        **kwargs: as :class:`ConvertedTestSet` (``split`` is ``'test'``).
    """

    LIST_PREFIX = 'uadfv'
    HOW_TO_MAKE = 'run python tools/dataset_converters/uadfv.py <UADFV download> <data_root>'


@DATASETS.register_module()
class WildDeepfakeDataset(ConvertedTestSet):
    """WildDeepfake face sequences listed by ``wilddeepfake.py``; detection only.

    Args:
        split (str): ``'test'`` or ``'train'``. Defaults to 'test'.
        **kwargs: as :class:`ConvertedTestSet`.
    """

    SPLITS = ('test', 'train')
    LIST_PREFIX = 'wilddeepfake'
    HOW_TO_MAKE = ('run python tools/dataset_converters/wilddeepfake.py <WildDeepfake download> '
                   '<data_root>')
