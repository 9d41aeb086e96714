"""Face crops from DeeperForensics-1.0 (fakes) and the FaceForensics++ videos they were
made from (reals).

Detection only: labels, no masks. Input, as the DeeperForensics-1.0 download unzips::

    <deeper>/manipulated_videos/<variant>/<target>_<actor>.mp4     e.g. end_to_end/000_M101.mp4
    <deeper>/lists/splits/train.txt, val.txt, test.txt             one fake video name a line
    <ffpp>/original_sequences/youtube/<comp>/videos/<target>.mp4   the real videos

``<variant>`` is one of the 11 folders of 1,000 fakes each: ``end_to_end`` (the raw DF-VAE
swaps of the paper), ``end_to_end_level_<1-5>``, ``end_to_end_random_level``,
``end_to_end_mix_<2-4>_distortions`` (the same swaps with perturbations) and
``reenact_postprocess``. A fake's ``<target>`` is the three-digit id of the FaceForensics++
YouTube video its face was swapped onto, ``<actor>`` the DeeperForensics actor (``M``/``W``
and three digits). The real part of the dataset is those target videos, which
DeeperForensics does not ship: they come from the FaceForensics++ download, c23 as the
dataset's authors ask. A split's reals are the targets of its fakes (the splits group the
fakes by actor, 703 : 96 : 201 videos, so one target may be in several splits).

Where the facts come from: the dataset's README (github EndlessSora/DeeperForensics-1.0,
``dataset/README.md``: folder structure, variant folders, video names, the split lists,
the target videos from FF++ c23 found by the first three digits); DeepfakeBench
(``preprocessing/config.yaml``: the ``perturbation`` option, ``end_to_end`` by default, as
this converter; ``rearrange.py``: split list lines are names with ``.mp4``). DeepfakeBench
takes the actors' ``source_videos`` as reals instead; the README says they are not the
real part for detection.

Output under ``<out>``::

    <variant>/DeeperForensics/<target>_<actor>/images/<frame:04d>.png
    ffpp_<comp>/original/<target>/images/<frame:04d>.png
    annotations/deeperforensics_<split>.jsonl              end_to_end fakes + reals
    annotations/deeperforensics_<variant>_<split>.jsonl    another variant's fakes + reals
    reports/deeperforensics.json

    python tools/dataset_converters/deeperforensics.py /data/DeeperForensics-1.0 \\
        data/deeperforensics --ffpp-root /data/FaceForensics++
"""
import argparse
import os
import os.path as osp
import re
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

METHOD = 'DeeperForensics'
DEFAULT_VARIANT = 'end_to_end'
VARIANTS = (DEFAULT_VARIANT, *(f'end_to_end_level_{i}' for i in range(1, 6)),
            'end_to_end_random_level', *(f'end_to_end_mix_{j}_distortions' for j in range(2, 5)),
            'reenact_postprocess')
SPLITS = ('train', 'val', 'test')
COMPRESSIONS = ('c23', 'c40', 'raw')
#: a split list's line: ``<target>_<actor>.mp4``, e.g. ``000_M101.mp4`` (``.mp4`` optional)
LIST_LINE = re.compile(r'(?P<name>(?P<target>\d{3})_[MW]\d{3})(\.mp4)?')


def read_split_list(path: str) -> Dict[str, int]:
    """The fake video names of one split list and their line numbers.

    Args:
        path (str): ``lists/splits/<split>.txt``.

    Returns:
        dict[str, int]: Name without ``.mp4`` (e.g. ``'000_M101'``) -> its line number, in
        the file's order (blank lines skipped).

    Raises:
        ConverterError: The list is missing or unreadable, or a line is no video name or
            repeats one (named with its file and line number).
    """
    try:
        with open(path, encoding='utf-8-sig') as f:  # a byte-order mark is no name
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise ConverterError(f'split list {path} cannot be read ({err}); it comes with the '
                             'dataset under lists/splits/') from err
    names: Dict[str, int] = {}
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text:
            continue
        match = LIST_LINE.fullmatch(text)
        if match is None:
            raise ConverterError(f'{path} line {number}: {text[:60]!r} is not a manipulated video '
                                 'name <target>_<actor>.mp4 (e.g. 000_M101.mp4); restore the '
                                 "file from the dataset's lists/splits/")
        first = names.setdefault(match['name'], number)
        if first != number:
            raise ConverterError(f'{path} line {number}: {match["name"]} is listed again (first '
                                 f"on line {first}); restore the file from the dataset's "
                                 'lists/splits/')
    return names


def read_splits(deeper_root: str, splits: Sequence[str]) -> Dict[str, List[str]]:
    """Every requested split's fake video names, each name in one split only.

    Args:
        deeper_root (str): The DeeperForensics-1.0 download.
        splits (Sequence[str]): ``'train'``, ``'val'``, ``'test'``.

    Returns:
        dict[str, list[str]]: Split -> its fake video names.

    Raises:
        ConverterError: A list is malformed, or names a video another list names.
    """
    seen: Dict[str, Tuple[str, int]] = {}
    names = {}
    for split in splits:
        path = osp.join(deeper_root, 'lists', 'splits', f'{split}.txt')
        lines = read_split_list(path)
        for name, number in lines.items():
            other, other_number = seen.setdefault(name, (path, number))
            if other != path:
                raise ConverterError(f'{path} line {number}: {name} is also in {other} line '
                                     f"{other_number}; a video is in one split: restore the "
                                     "dataset's lists/splits/")
        names[split] = list(lines)
    return names


def list_name(variant: str, split: str) -> str:
    """``deeperforensics_<split>.jsonl`` for end_to_end, else with the variant in it."""
    if variant == DEFAULT_VARIANT:
        return f'deeperforensics_{split}.jsonl'
    return f'deeperforensics_{variant}_{split}.jsonl'


def split_jobs(deeper_root: str, ffpp_videos: str, group: str, variant: str,
               names: Sequence[str]) -> List[VideoJob]:
    """One split's videos: its fakes of one variant, then the real target videos."""
    folder = osp.join(deeper_root, 'manipulated_videos', variant)
    fakes = [VideoJob(osp.join(folder, f'{name}.mp4'), METHOD, name, 1, variant)
             for name in names]
    targets = sorted({LIST_LINE.fullmatch(name)['target'] for name in names})
    reals = [VideoJob(osp.join(ffpp_videos, f'{target}.mp4'), 'original', target, 0, group)
             for target in targets]
    return fakes + reals


def check_download(deeper_root: str, ffpp_videos: str, variants: Sequence[str]) -> None:
    """Fails when a variant's folder or the FF++ real videos' folder is missing."""
    folder = osp.join(deeper_root, 'manipulated_videos')
    for variant in variants:
        if not osp.isdir(osp.join(folder, variant)):
            present = sorted(os.listdir(folder)) if osp.isdir(folder) else []
            raise ConverterError(f'no folder {osp.join(folder, variant)}: pass the dataset '
                                 'root (has manipulated_videos/ and lists/) and a --variants '
                                 f'it has ({", ".join(present) or "none found"})')
    if not osp.isdir(ffpp_videos):
        raise ConverterError(f'no folder {ffpp_videos}: --ffpp-root must be the FaceForensics++ '
                             "download with the original YouTube videos (its script's "
                             '-d original -c <compression>), at --ffpp-compression')


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='DeeperForensics-1.0 fakes + their FaceForensics++ reals -> face crops '
        'and split lists')
    parser.add_argument('deeper_root', help='DeeperForensics-1.0 (has manipulated_videos/, '
                        'lists/)')
    parser.add_argument('out', help='output folder')
    parser.add_argument('--ffpp-root', required=True,
                        help='the FaceForensics++ download: the real (target) videos')
    parser.add_argument('--ffpp-compression', default='c23', choices=COMPRESSIONS,
                        help='the real videos\' compression (default: c23, as the dataset '
                        'asks)')
    parser.add_argument('--variants', nargs='+', default=[DEFAULT_VARIANT], choices=VARIANTS,
                        metavar='VARIANT', help='manipulated_videos/ folders to convert: '
                        f'{", ".join(VARIANTS)} (default: end_to_end)')
    parser.add_argument('--splits', nargs='+', default=list(SPLITS), choices=SPLITS,
                        help='splits to convert (default: all)')
    add_conversion_arguments(parser)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> dict:
    args = parse_args(argv)
    check_input_folders(args.deeper_root, args.ffpp_root)
    ffpp_videos = osp.join(args.ffpp_root, 'original_sequences', 'youtube',
                           args.ffpp_compression, 'videos')
    check_download(args.deeper_root, ffpp_videos, args.variants)
    names = read_splits(args.deeper_root, args.splits)
    if not any(names.values()):
        raise ConverterError(f'the split lists {", ".join(args.splits)} under '
                             f'{osp.join(args.deeper_root, "lists", "splits")} name no video; '
                             "restore them from the dataset's lists/splits/")
    options = prepare_conversion(args, args.deeper_root, args.ffpp_root)
    group = f'ffpp_{args.ffpp_compression}'
    splits = {f'{variant}/{split}': split_jobs(args.deeper_root, ffpp_videos, group, variant,
                                               names[split])
              for variant in args.variants for split in args.splits}
    files = {f'{variant}/{split}': list_name(variant, split)
             for variant in args.variants for split in args.splits}
    return convert_dataset('deeperforensics', args.out, splits, files, options,
                           workers=args.workers)


if __name__ == '__main__':
    run_converter(main, 'deeperforensics.py', sys.argv[1:])
