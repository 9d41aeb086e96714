"""Face forgery datasets read from annotation lists (see :mod:`.annotation_file`).

Every dataset here is an mmseg ``BaseSegDataset`` with two classes, ``pristine`` (0)
and ``forged`` (1). Each sample's info carries, besides mmseg's ``img_path`` and
``seg_map_path`` (``None`` when there is no mask file):

- ``gt_label``: 0 real, 1 fake;
- ``method``: e.g. ``'original'``, ``'Deepfakes'``;
- ``video_id``: e.g. ``'071_054'``; frames of one video share it (a list without it:
  the image itself, or its folder with ``video_id_from='folder'``, see
  :mod:`.annotation_file`);
- ``video_id_source``: ``'video_id'`` (the list gives it), ``'image'`` or ``'folder'``,
  so that the metric says how its video scores were grouped;
- ``has_mask``: whether the pixel ground truth is known (a real image's all-zero mask
  is known; a fake without a mask file, or any sample of a detection-only dataset, is
  not), so the metric scores localisation only where it is.
"""
import os.path as osp
from typing import List, Optional, Sequence

from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .annotation_file import read_annotations
from .errors import ForgeryDataError, MissingDataFileError

FORGERY_METAINFO = dict(classes=('pristine', 'forged'), palette=[[0, 0, 0], [255, 0, 0]])


@DATASETS.register_module()
class ForgeryFolderDataset(BaseSegDataset):
    """A user's own images, masks and labels, listed in a JSONL / JSON / CSV file.

    Args:
        ann_file (str): the annotation list, relative to ``data_root`` unless absolute.
        methods (Sequence[str], optional): keep only fakes of these methods (real images
            are always kept); ``None`` keeps everything. Defaults to None.
        with_masks (bool): ``False`` marks every sample ``has_mask=False`` (detection
            only). Defaults to True.
        video_id_from (str): a record without ``video_id`` is its own video,
            ``'image'`` (safe for still images: video scores then equal frame scores), or
            belongs to the video of its ``'folder'`` (frames extracted into one folder
            per video). Defaults to 'image'.
        **kwargs: the rest of mmseg's ``BaseSegDataset`` (``data_root``, ``pipeline``,
            ``data_prefix``, ``test_mode``, ...).
    """

    METAINFO = FORGERY_METAINFO
    #: what to run when the annotation list is missing or empty
    HOW_TO_MAKE = ('write a JSONL/CSV list with img_path, mask_path, label, method, video_id '
                   '(see dadf_mm/datasets/annotation_file.py)')

    def __init__(self,
                 *,
                 ann_file: str,
                 methods: Optional[Sequence[str]] = None,
                 with_masks: bool = True,
                 video_id_from: str = 'image',
                 **kwargs) -> None:
        self.methods = None if methods is None else tuple(methods)
        self.with_masks = with_masks
        self.video_id_from = video_id_from
        kwargs.setdefault('img_suffix', '.png')
        kwargs.setdefault('seg_map_suffix', '.png')
        super().__init__(ann_file=ann_file, **kwargs)

    def read_records(self) -> List[dict]:
        """The annotation list's records, checked and normalised.

        Returns:
            list[dict]: records as :func:`.annotation_file.read_annotations` gives them
            (``img_path``, ``mask_path``, ``label``, ``method``, ``video_id``,
            ``video_id_source``), in list order.

        Raises:
            MissingDataFileError: The annotation list does not exist.
            AnnotationError: The list is malformed.
        """
        if not osp.exists(self.ann_file):
            raise MissingDataFileError(
                f'{type(self).__name__}: annotation file {self.ann_file} does not exist; '
                f'to make it: {self.HOW_TO_MAKE}')
        return read_annotations(self.ann_file, self.video_id_from)

    def load_data_list(self) -> List[dict]:
        """Read and check the annotation list.

        Returns:
            list[dict]: One data info per kept record: mmseg's ``img_path``,
            ``seg_map_path`` (None without a mask file), ``label_map``,
            ``reduce_zero_label``, ``seg_fields``, and ``gt_label``, ``method``,
            ``video_id``, ``video_id_source``, ``has_mask``.

        Raises:
            MissingDataFileError: The annotation list does not exist.
            ForgeryDataError: The list is malformed or keeps no sample.
        """
        records = self.read_records()
        if self.methods is not None:
            records = [r for r in records if r['label'] == 0 or r['method'] in self.methods]
        if not records:
            which = '' if self.methods is None else f' for methods {list(self.methods)}'
            raise ForgeryDataError(
                f'{type(self).__name__}: no samples in {self.ann_file}{which}; to make them: '
                f'{self.HOW_TO_MAKE}')
        img_dir = self.data_prefix.get('img_path', '') or ''
        seg_dir = self.data_prefix.get('seg_map_path', '') or ''
        data_list = []
        for r in records:
            mask = r['mask_path']
            data_list.append(
                dict(img_path=osp.join(img_dir, r['img_path']),
                     seg_map_path=osp.join(seg_dir, mask) if mask else None,
                     label_map=self.label_map,
                     reduce_zero_label=self.reduce_zero_label,
                     seg_fields=[],
                     gt_label=r['label'],
                     method=r['method'],
                     video_id=r['video_id'],
                     video_id_source=r['video_id_source'],
                     has_mask=self.with_masks and (mask is not None or r['label'] == 0)))
        return data_list


def _default_ann_file(kwargs: dict, name: str) -> str:
    ann_file = kwargs.pop('ann_file', None)
    return ann_file or osp.join('annotations', name)


@DATASETS.register_module()
class FFPPDataset(ForgeryFolderDataset):
    """FaceForensics++ face crops made by ``tools/dataset_converters/ffpp.py``.

    Args:
        methods (Sequence[str]): fake methods to keep; real (``original``) frames are
            always kept. Defaults to ``('Deepfakes', 'Face2Face', 'FaceSwap',
            'NeuralTextures')``.
        compression (str): ``'c23'`` (HQ), ``'c40'`` (LQ) or ``'raw'``. Defaults to 'c23'.
        split (str): ``'train'``, ``'val'`` or ``'test'`` (the official splits).
            Defaults to 'train'.
        **kwargs: as :class:`ForgeryFolderDataset`; ``ann_file`` defaults to
            ``annotations/ffpp_<compression>_<split>.jsonl``.
    """

    HOW_TO_MAKE = ('run python tools/dataset_converters/ffpp.py <FaceForensics++ download> '
                   '<data_root> --compression <c23|c40>')

    def __init__(self,
                 *,
                 methods: Sequence[str] = ('Deepfakes', 'Face2Face', 'FaceSwap',
                                           'NeuralTextures'),
                 compression: str = 'c23',
                 split: str = 'train',
                 **kwargs) -> None:
        self.compression = compression
        self.split = split
        ann_file = _default_ann_file(kwargs, f'ffpp_{compression}_{split}.jsonl')
        super().__init__(ann_file=ann_file, methods=methods, **kwargs)


@DATASETS.register_module()
class FMLDDataset(ForgeryFolderDataset):
    """FMLD face images with masks, from a list ``annotations/fmld_<split>.jsonl``.

    FMLD ships images and masks, not videos, so its list is written by the user in the
    format of :mod:`.annotation_file` (``method`` e.g. ``'StyleGAN'``, ``'StarGAN'``), and
    a record without ``video_id`` is its own video (``video_id_from='image'``).

    Args:
        split (str): ``'train'``, ``'val'`` or ``'test'``: the list read. Defaults to
            'train'.
        methods (Sequence[str], optional): fake methods to keep; ``None`` keeps every
            sample. Defaults to None.
        **kwargs: as :class:`ForgeryFolderDataset`; ``ann_file`` defaults to
            ``annotations/fmld_<split>.jsonl``.
    """

    HOW_TO_MAKE = ('write annotations/fmld_<split>.jsonl under data_root, one record per image '
                   'with img_path, mask_path, label, method '
                   '(see dadf_mm/datasets/annotation_file.py)')

    def __init__(self, *, split: str = 'train', methods: Optional[Sequence[str]] = None,
                 **kwargs) -> None:
        self.split = split
        ann_file = _default_ann_file(kwargs, f'fmld_{split}.jsonl')
        kwargs.setdefault('video_id_from', 'image')
        super().__init__(ann_file=ann_file, methods=methods, **kwargs)


@DATASETS.register_module()
class DFDDataset(ForgeryFolderDataset):
    """DeepFakeDetection crops made by ``tools/dataset_converters/dfd.py``; detection only.

    Args:
        compression (str): ``'c23'`` or ``'c40'``: the list read. Defaults to 'c23'.
        **kwargs: as :class:`ForgeryFolderDataset`; ``ann_file`` defaults to
            ``annotations/dfd_<compression>_test.jsonl`` and ``with_masks`` to False.
    """

    HOW_TO_MAKE = ('run python tools/dataset_converters/dfd.py <FaceForensics++ download> '
                   '<data_root> --compression <c23|c40>')

    def __init__(self, *, compression: str = 'c23', **kwargs) -> None:
        self.compression = compression
        ann_file = _default_ann_file(kwargs, f'dfd_{compression}_test.jsonl')
        kwargs.setdefault('with_masks', False)
        super().__init__(ann_file=ann_file, **kwargs)


@DATASETS.register_module()
class DFTIMITDataset(ForgeryFolderDataset):
    """DeepfakeTIMIT (+ VidTIMIT reals) crops made by ``dftimit.py``; detection only.

    Args:
        quality (str): ``'hq'`` or ``'lq'`` fakes (the real videos are the same in both).
            Defaults to 'hq'.
        **kwargs: as :class:`ForgeryFolderDataset`; ``ann_file`` defaults to
            ``annotations/dftimit_<quality>_test.jsonl`` and ``with_masks`` to False.
    """

    HOW_TO_MAKE = ('run python tools/dataset_converters/dftimit.py <DeepfakeTIMIT> <VidTIMIT> '
                   '<data_root>')

    def __init__(self, *, quality: str = 'hq', **kwargs) -> None:
        if quality not in ('hq', 'lq'):
            raise ValueError(f"DFTIMITDataset quality must be 'hq' or 'lq', got {quality!r}")
        self.quality = quality
        ann_file = _default_ann_file(kwargs, f'dftimit_{quality}_test.jsonl')
        kwargs.setdefault('with_masks', False)
        super().__init__(ann_file=ann_file, **kwargs)
