"""Face crops from WildDeepfake (Zi et al., ACM MM 2020): face sequences cut from deepfake
videos found on the internet, each a folder of PNG frames, labelled real or fake.

Detection only: labels, no masks. The download is four folders of ``.tar.gz`` parts
(``deepfake_in_the_wild/{real,fake}_{train,test}/<n>.tar.gz``); part ``<n>`` unpacks to
``<n>/<real|fake>/<sequence>/<frame>.png``. This converter reads **extracted parts only**
(``tar -xzf <n>.tar.gz`` in the part's folder, as the dataset's users do): reading the
archives themselves would unpack every part again on each rerun. Parts left packed are
counted in a warning; a download with nothing extracted stops with one line. Input::

    <wild>[/deepfake_in_the_wild]/real_train/<n>/real/<sequence>/<frame>.png
    <wild>[/deepfake_in_the_wild]/fake_train/<n>/fake/<sequence>/<frame>.png
    <wild>[/deepfake_in_the_wild]/real_test/<n>/real/<sequence>/<frame>.png
    <wild>[/deepfake_in_the_wild]/fake_test/<n>/fake/<sequence>/<frame>.png

(the layout the dataset's release and the scripts that read it use). The split folder gives
the label; a part whose inner folder says otherwise (``real_test/<n>/fake/``) stops the run
before anything is written, naming it. A sequence is one "video": its frames in natural
order, ``--num-frames`` of them evenly spaced, ``frame`` the index in that order. Output
under ``<out>``::

    <split>/original/<n>_<sequence>/images/<frame:04d>.png       real
    <split>/WildDeepfake/<n>_<sequence>/images/<frame:04d>.png   fake
    annotations/wilddeepfake_{train,test}.jsonl
    reports/wilddeepfake.json

    python tools/dataset_converters/wilddeepfake.py /data/WildDeepfake data/wilddeepfake
"""
import argparse
import glob
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence, Tuple

if __name__ == '__main__':  # a signal while the libraries load ends in one line as well
    from converter_start import stop_in_one_line_while_loading
    stop_in_one_line_while_loading()

from dadf_mm.preprocessing.conversion_errors import ConverterError  # noqa: E402
from dadf_mm.preprocessing.conversion_runner import convert_dataset  # noqa: E402
from dadf_mm.preprocessing.video_conversion import VideoJob  # noqa: E402

from converter_setup import (  # noqa: E402
    add_conversion_arguments,
    check_input_folders,
    prepare_conversion,
    run_converter,
)

METHOD = 'WildDeepfake'
SPLITS = ('train', 'test')
KINDS = {'real': ('original', 0), 'fake': (METHOD, 1)}  # folder -> (method, label)
ARCHIVE = '.tar.gz'


def _subdirs(path: str) -> List[str]:
    return sorted(n for n in os.listdir(path)
                  if not n.startswith('.') and osp.isdir(osp.join(path, n)))


def dataset_folder(root: str) -> str:
    """``root`` or its ``deepfake_in_the_wild/``: the one with the split folders."""
    inner = osp.join(root, 'deepfake_in_the_wild')
    return inner if osp.isdir(inner) else root


def part_sequences(part: str, kind: str) -> List[str]:
    """The sequence folders of one extracted part.

    Args:
        part (str): ``<kind>_<split>/<n>``.
        kind (str): ``'real'`` or ``'fake'``, from the split folder's name.

    Returns:
        list[str]: ``<part>/<kind>/<sequence>`` folders, in name order.

    Raises:
        ConverterError: The part holds the other kind, or neither.
    """
    other = 'fake' if kind == 'real' else 'real'
    split_folder = osp.basename(osp.dirname(part))
    if osp.isdir(osp.join(part, other)):
        raise ConverterError(
            f'{osp.join(part, other)}: {other} sequences in {split_folder}/, whose label is '
            f'{kind}; move part {osp.basename(part)} to {other}_{split_folder.split("_")[-1]}/')
    if not osp.isdir(osp.join(part, kind)):
        raise ConverterError(f'{part} is not an extracted WildDeepfake part: expected '
                             f'{osp.join(part, kind, "<sequence>", "<frame>.png")}')
    return [osp.join(part, kind, s) for s in _subdirs(osp.join(part, kind))]


def wilddeepfake_jobs(folder: str, splits: Sequence[str]) -> Tuple[Dict[str, List[VideoJob]],
                                                                   List[str]]:
    """Every face sequence of the extracted parts, per split.

    Args:
        folder (str): The folder with ``real_train/``, ``fake_train/``, ...
        splits (Sequence[str]): ``'train'`` and/or ``'test'``.

    Returns:
        tuple[dict[str, list[VideoJob]], list[str]]: Split -> its sequences (real, then
        fake), and the archives not extracted.

    Raises:
        ConverterError: A part with the wrong label or none (see :func:`part_sequences`).
    """
    jobs: Dict[str, List[VideoJob]] = {split: [] for split in splits}
    packed = []
    for split in splits:
        for kind, (method, label) in KINDS.items():
            base = osp.join(folder, f'{kind}_{split}')
            if not osp.isdir(base):
                continue
            for part in _subdirs(base):
                for seq in part_sequences(osp.join(base, part), kind):
                    jobs[split].append(VideoJob(seq, method, f'{part}_{osp.basename(seq)}',
                                                label, split))
            packed += [a for a in sorted(glob.glob(osp.join(base, '*' + ARCHIVE)))
                       if not osp.isdir(a[:-len(ARCHIVE)])]
    return jobs, packed


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='WildDeepfake face sequences -> face crops, train and test lists')
    parser.add_argument('root', help='the WildDeepfake download, its .tar.gz parts extracted '
                        '(has real_train/, fake_train/, real_test/, fake_test/ or '
                        'deepfake_in_the_wild/ with them)')
    parser.add_argument('out', help='output folder')
    parser.add_argument('--splits', nargs='+', default=list(SPLITS), choices=SPLITS,
                        help='splits to convert (default: both; cross-dataset testing needs '
                        'test only)')
    add_conversion_arguments(parser)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    check_input_folders(args.root)
    splits = list(dict.fromkeys(args.splits))
    folder = dataset_folder(args.root)
    jobs, packed = wilddeepfake_jobs(folder, splits)  # checked before anything is written
    if not any(jobs.values()):
        hint = (f'extract the parts first, e.g. tar -xzf {packed[0]} -C '
                f'{osp.dirname(packed[0])}' if packed else
                'expected ' + ', '.join(f'{k}_{s}/<n>/{k}/<sequence>/<frame>.png'
                                        for s in splits for k in KINDS))
        raise ConverterError(f'no extracted WildDeepfake sequences under {folder}: {hint}')
    if packed:
        print(f'warning: {len(packed)} parts are not extracted, so their sequences are left '
              f'out, e.g. {packed[0]} (tar -xzf it in its folder)')
    options = prepare_conversion(args, args.root)
    return convert_dataset('wilddeepfake', args.out, jobs,
                           {s: f'wilddeepfake_{s}.jsonl' for s in splits}, options,
                           workers=args.workers)


if __name__ == '__main__':
    run_converter(main, 'wilddeepfake.py', sys.argv[1:])
