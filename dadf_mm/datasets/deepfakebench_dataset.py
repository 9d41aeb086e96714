"""DeepfakeBench's prepared data, read as it is: its rearranged JSON and frame folders.

DeepfakeBench (github SCLBD/DeepfakeBench) crops faces into
``<dataset>/.../frames/<video>/<n>.png`` (``preprocessing/preprocess.py``) and
``preprocessing/rearrange.py`` lists them in ``preprocessing/dataset_json/<Dataset>.json``::

    {dataset: {label_name: {split: {video: {"label": label_name,
                                            "frames": [path, ...],
                                            "masks": [path, ...]}}}}}

FaceForensics++ and its relatives (``FaceForensics++``, ``FF-DF``, ``FF-F2F``, ``FF-FS``,
``FF-NT``, ``DeepFakeDetection``, ``FaceShifter``) have one more level, the compression,
between split and video: ``{split: {"c23": {video: ...}}}``. Only FF++'s fakes list
``masks`` (crops of the FF++ mask videos, same file names as their frames). These facts
come from rearrange.py (the nesting, label names, splits, masks) and
``training/dataset/abstract_dataset.py`` (the compression level, frames sorted by their
number, a relative frame path read under ``rgb_dir``); the label of each name
(0 real, 1 fake) is ``label_dict`` of ``training/config/test_config.yaml``.

Each frame becomes the record a converter's list holds (see :mod:`.annotation_file`):
``img_path`` (the JSON's path, ``\\`` read as ``/``; a relative one is read under
``data_root`` and ``data_prefix['img_path']``, so set ``data_root`` to DeepfakeBench's
``rgb_dir`` or to the folder the paths were written from), ``mask_path`` (the ``masks``
entry of the frame's file name, else None), ``label``, ``method`` (``'original'`` for
real videos, as the converters; the fake category otherwise, see
:data:`DEEPFAKEBENCH_LABELS`) and ``video_id`` (the JSON's video name). Every listed frame
is used (DeepfakeBench's own loader keeps the first ``frame_num`` of them).
"""
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

from mmseg.registry import DATASETS

from .annotation_record import check_records, normalise_record
from .errors import AnnotationError, MissingDataFileError, one_line
from .forgery_dataset import ForgeryFolderDataset

_REAL = 'original'
#: DeepfakeBench's label names -> (label, method): label as its test_config.yaml maps it
DEEPFAKEBENCH_LABELS: Dict[str, Tuple[int, str]] = {
    'FF-real': (0, _REAL), 'DFD_real': (0, _REAL), 'CelebDFv1_real': (0, _REAL),
    'CelebDFv2_real': (0, _REAL), 'DFDCP_Real': (0, _REAL), 'DFDC_Real': (0, _REAL),
    'DF_real': (0, _REAL), 'UADFV_Real': (0, _REAL), 'roop_Real': (0, _REAL),
    'FF-DF': (1, 'Deepfakes'), 'FF-F2F': (1, 'Face2Face'), 'FF-FS': (1, 'FaceSwap'),
    'FF-NT': (1, 'NeuralTextures'), 'FF-FH': (1, 'FaceShifter'), 'FF-SH': (1, 'FaceShifter'),
    'DFD_fake': (1, 'DeepFakeDetection'), 'CelebDFv1_fake': (1, 'Celeb-synthesis'),
    'CelebDFv2_fake': (1, 'Celeb-synthesis'), 'DFDCP_FakeA': (1, 'method_A'),
    'DFDCP_FakeB': (1, 'method_B'), 'DFDC_Fake': (1, 'DFDC'), 'DF_fake': (1, 'DeeperForensics'),
    'UADFV_Fake': (1, 'UADFV'), 'roop_Fake': (1, 'roop'),
}
COMPRESSIONS = ('raw', 'c23', 'c40')


def _keys(path: List[str]) -> str:
    return ''.join(f'[{key!r}]' for key in path)


def _frame_order(path: str) -> Tuple[int, object]:
    """DeepfakeBench's order: by the number the file is named (``12.png``), else by name."""
    stem = osp.splitext(osp.basename(path))[0]
    return (0, int(stem)) if stem.isdigit() else (1, stem)


class DeepfakeBenchJSON:
    """One dataset's split of a DeepfakeBench JSON file, as converter-style records.

    Args:
        path (str): the JSON file.
        dataset_name (str, optional): its top-level key; None: its only one.
        split (str): ``'test'``, ``'train'`` or ``'val'``.
        compression (str): the compression level read where the JSON has one.
        labels (dict): label name -> (label, method).
    """

    def __init__(self, path: str, dataset_name: Optional[str], split: str, compression: str,
                 labels: Dict[str, Tuple[int, str]]) -> None:
        self.path, self.split, self.compression, self.labels = path, split, compression, labels
        self.dataset_name = dataset_name

    def _error(self, keys: List[str], message: str) -> AnnotationError:
        return AnnotationError(f'{self.path}: {_keys(keys)}: {message}' if keys else
                               f'{self.path}: {message}')

    def _child(self, node: object, keys: List[str], key: str, what: str) -> object:
        if not isinstance(node, dict):
            raise self._error(keys, f'is a {type(node).__name__}, not an object of {what}s; '
                              'the file is not a DeepfakeBench dataset JSON')
        if key not in node:
            have = ', '.join(sorted(map(str, node))[:12]) or 'none'
            raise self._error(keys, f'has no {what} {key!r} (it has: {have}); give '
                              f'{what}= one of them')
        return node[key]

    def load(self) -> dict:
        """Reads the file.

        Returns:
            dict: the parsed JSON.
        """
        if not osp.isfile(self.path):
            raise MissingDataFileError(f'{self.path}: the DeepfakeBench JSON does not exist; '
                                       'make it with DeepfakeBench\'s preprocessing/'
                                       'rearrange.py or download its JSON files')
        try:
            with open(self.path, encoding='utf-8-sig') as f:
                return json.load(f)
        except (OSError, ValueError, RecursionError) as err:
            raise AnnotationError(f'{self.path}: not a readable JSON file ({one_line(err)})'
                                  ) from err

    def videos(self) -> List[Tuple[List[str], dict]]:
        """The chosen split's video entries, with their key paths.

        Returns:
            list[tuple[list[str], dict]]: (key path, entry) per video, in file order.
        """
        data = self.load()
        name = self.dataset_name
        if name is None:
            if not isinstance(data, dict) or len(data) != 1:
                have = list(data)[:12] if isinstance(data, dict) else type(data).__name__
                raise self._error([], f'holds datasets {have}; give dataset_name= one of them')
            name = next(iter(data))
        by_label = self._child(data, [], name, 'dataset_name')
        if not isinstance(by_label, dict) or not by_label:
            raise self._error([name], 'lists no label names')
        out = []
        for label_name, by_split in by_label.items():
            keys = [name, label_name]
            node = self._child(by_split, keys, self.split, 'split')
            keys = keys + [self.split]
            if self._is_compression_level(node):
                node = self._child(node, keys, self.compression, 'compression')
                keys = keys + [self.compression]
            if not isinstance(node, dict):
                raise self._error(keys, f'is a {type(node).__name__}, not an object of videos')
            out += [(keys + [video], entry) for video, entry in node.items()]
        return out

    @staticmethod
    def _is_compression_level(node: object) -> bool:
        return (isinstance(node, dict) and bool(node) and set(node) <= set(COMPRESSIONS)
                and all(isinstance(v, dict) and 'frames' not in v for v in node.values()))

    def records(self) -> List[Tuple[dict, str]]:
        """One converter-style record per frame, with its place for messages.

        Returns:
            list[tuple[dict, str]]: (record, key path), videos in file order, frames in
            DeepfakeBench's order.
        """
        rows = []
        for keys, entry in self.videos():
            if not isinstance(entry, dict) or not isinstance(entry.get('frames'), list):
                raise self._error(keys, 'is not a video entry (an object with "label" and a '
                                  '"frames" list)')
            name = entry.get('label', keys[1])
            if name not in self.labels:
                known = ', '.join(sorted(self.labels))
                raise self._error(keys, f'label {name!r} is not a DeepfakeBench label name '
                                  f'({known}); give it with extra_labels=dict({name}=0 or 1)')
            label, method = self.labels[name]
            if not entry['frames']:
                raise self._error(keys, 'lists no frames; remove the video or extract its '
                                  'frames again')
            masks = {osp.basename(_slashes(m)): _slashes(m) for m in entry.get('masks') or []
                     if isinstance(m, str)}
            for k, frame in enumerate(entry['frames']):
                if not isinstance(frame, str):
                    raise self._error(keys + ['frames'], f'item {k} is {frame!r}, not a path')
            for img_path in sorted(map(_slashes, entry['frames']), key=_frame_order):
                rows.append((dict(img_path=img_path, label=label, method=method,
                                  video_id=keys[-1],
                                  mask_path=masks.get(osp.basename(img_path))),
                             _keys(keys)))
        return rows


def _slashes(path: str) -> str:
    return path.replace('\\', '/')


@DATASETS.register_module()
class DeepfakeBenchDataset(ForgeryFolderDataset):
    """Frames prepared by DeepfakeBench, read from its rearranged JSON as they are.

    Args:
        json_file (str): DeepfakeBench's ``dataset_json/<Dataset>.json``, relative to
            ``data_root`` unless absolute.
        dataset_name (str, optional): the JSON's top-level key (e.g. ``'Celeb-DF-v2'``);
            None takes its only one. Defaults to None.
        split (str): ``'test'``, ``'train'`` or ``'val'``. Defaults to 'test'.
        compression (str): ``'c23'``, ``'c40'`` or ``'raw'``, read where the JSON has a
            compression level (FF++ and its relatives). Defaults to 'c23'.
        extra_labels (dict, optional): more label names -> 0 (real) / 1 (fake), added to
            :data:`DEEPFAKEBENCH_LABELS` (a fake's method is then its label name).
            Defaults to None.
        with_masks (bool, optional): whether localisation is scored where a mask is known;
            None: whenever the JSON lists a mask for a fake frame. Defaults to None.
        **kwargs: as :class:`ForgeryFolderDataset` (``data_root``: the folder relative
            frame paths are read under, DeepfakeBench's ``rgb_dir``).
    """

    HOW_TO_MAKE = ("run DeepfakeBench's preprocessing/rearrange.py, or download its JSON "
                   'files, and give json_file= and data_root= (its rgb_dir)')

    def __init__(self,
                 *,
                 json_file: str,
                 dataset_name: Optional[str] = None,
                 split: str = 'test',
                 compression: str = 'c23',
                 extra_labels: Optional[Dict[str, int]] = None,
                 with_masks: Optional[bool] = None,
                 **kwargs) -> None:
        if compression not in COMPRESSIONS:
            raise ValueError(f'DeepfakeBenchDataset compression must be one of '
                             f'{list(COMPRESSIONS)}, got {compression!r}')
        self.dataset_name, self.split, self.compression = dataset_name, split, compression
        self.labels = dict(DEEPFAKEBENCH_LABELS)
        for name, label in (extra_labels or {}).items():
            if label not in (0, 1) or isinstance(label, bool):
                raise ValueError(f'DeepfakeBenchDataset extra_labels[{name!r}] must be 0 '
                                 f'(real) or 1 (fake), got {label!r}')
            self.labels[name] = (label, _REAL if label == 0 else name)
        self.masks_given = with_masks
        super().__init__(ann_file=json_file, with_masks=bool(with_masks), **kwargs)

    def read_records(self) -> List[dict]:
        """The JSON's frames of the chosen dataset and split, as converter-style records.

        Returns:
            list[dict]: normalised records (as a converter's list reads), videos in file
            order.

        Raises:
            MissingDataFileError: The JSON file, or a listed frame, does not exist.
            AnnotationError: The JSON has no such dataset, split or compression, or an
                unknown label name.
        """
        source = DeepfakeBenchJSON(self.ann_file, self.dataset_name, self.split,
                                   self.compression, self.labels)
        rows = source.records()
        records = [normalise_record(r, f'{self.ann_file}: {place}') for r, place in rows]
        check_records(self.ann_file, records, [place for _, place in rows])
        self._check_frames(records, [place for _, place in rows])
        if self.masks_given is None:
            self.with_masks = any(r['mask_path'] and r['label'] == 1 for r in records)
        return records

    def _check_frames(self, records: List[dict], places: List[str]) -> None:
        """Every listed frame exists (each folder is listed once)."""
        root = self.data_prefix.get('img_path', '') or ''
        listed: Dict[str, Optional[set]] = {}
        for record, place in zip(records, places):
            path = osp.join(root, record['img_path'])
            folder, name = osp.split(path)
            if folder not in listed:
                listed[folder] = set(os.listdir(folder)) if osp.isdir(folder) else None
            if listed[folder] is None:
                raise MissingDataFileError(
                    f'{self.ann_file}: {place}: frame folder {folder} does not exist; set '
                    'data_root to the folder its frame paths are relative to '
                    "(DeepfakeBench's rgb_dir)")
            if name not in listed[folder]:
                raise MissingDataFileError(f'{self.ann_file}: {place}: frame {path} does not '
                                           'exist; extract it again or remove it')
