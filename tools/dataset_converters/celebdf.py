"""Face crops from Celeb-DF (v1 and v2), its official test list and the rest as training set.

Detection only: labels, no masks. Input, as the Celeb-DF download unpacks (the layout in
the dataset's README, github.com/yuezunli/celeb-deepfakeforensics, v1 and v2 alike)::

    <celebdf>/Celeb-real/<celeb>_<clip>.mp4                  real (e.g. id0_0000.mp4)
    <celebdf>/YouTube-real/<clip>.mp4                        real (e.g. 00170.mp4)
    <celebdf>/Celeb-synthesis/<target>_<donor>_<clip>.mp4    fake (e.g. id0_id1_0000.mp4)
    <celebdf>/List_of_testing_videos.txt                     the test set

A folder may also hold its videos under ``videos/`` (DeepfakeBench's preprocessing reads
``<folder>/**/*.mp4``). Each line of ``List_of_testing_videos.txt`` is ``<label>
<folder>/<file>.mp4``, and in Celeb-DF's own list **1 means real and 0 means synthesised**
(``1 YouTube-real/00170.mp4``, ``0 Celeb-synthesis/id0_id1_0000.mp4``; the reverse of the
usual 0 real, 1 fake, as the lists and the code that reads them show): a label that
contradicts its folder stops the run, naming the file and line. The test set is the listed
videos, the training set every other video (DeepfakeBench's rearrange.py splits the same
way; the official protocol trains on none of them).

``ROOT`` is the download itself when one ``--version`` is asked, or a folder holding
``Celeb-DF-v1/`` and ``Celeb-DF-v2/`` (DeepfakeBench's names; ``Celeb-DF/`` is also taken
for v1). Output under ``<out>``::

    <version>/original/<video_id>/images/<frame:04d>.png          Celeb-real, YouTube-real
    <version>/Celeb-synthesis/<video_id>/images/<frame:04d>.png   fakes
    annotations/celebdf_<version>_{train,test}.jsonl
    reports/celebdf_<version>.json

``video_id`` is the file name without ``.mp4``. ::

    python tools/dataset_converters/celebdf.py /data/Celeb-DF-v2 data/celebdf --version v2
    python tools/dataset_converters/celebdf.py /data data/celebdf --version v1 v2
"""
import argparse
import glob
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

VERSIONS = ('v1', 'v2')
SPLITS = ('train', 'test')
TEST_LIST = 'List_of_testing_videos.txt'
FAKE_FOLDER = 'Celeb-synthesis'
#: folder -> (method, label); the list's own labels are 1 real, 0 synthesised
FOLDERS = {'Celeb-real': ('original', 0), 'YouTube-real': ('original', 0),
           FAKE_FOLDER: (FAKE_FOLDER, 1)}
LIST_LABEL = {'1': 0, '0': 1}  # List_of_testing_videos.txt label -> ours (0 real, 1 fake)


def version_folder(root: str, version: str, only_one: bool) -> str:
    """The download of one Celeb-DF version under ``root``.

    Args:
        root (str): The folder given on the command line.
        version (str): ``'v1'`` or ``'v2'``.
        only_one (bool): Whether one version was asked (``root`` may be its download).

    Returns:
        str: The folder holding ``List_of_testing_videos.txt``.

    Raises:
        ConverterError: None of the candidates holds the test list.
    """
    names = [f'Celeb-DF-{version}'] + (['Celeb-DF'] if version == 'v1' else [])
    candidates = [osp.join(root, n) for n in names] + ([root] if only_one else [])
    for folder in candidates:
        if osp.isfile(osp.join(folder, TEST_LIST)):
            return folder
    raise ConverterError(
        f'no Celeb-DF {version} download under {root}: none of '
        f'{", ".join(osp.join(c, TEST_LIST) for c in candidates)} exists (pass the folder '
        f'that holds Celeb-real/, YouTube-real/, {FAKE_FOLDER}/ and {TEST_LIST})')


def video_path(folder: str, subfolder: str, name: str) -> str:
    """Where ``<subfolder>/<name>`` lies: directly in it, or in its ``videos/``."""
    direct = osp.join(folder, subfolder, name)
    nested = osp.join(folder, subfolder, 'videos', name)
    return nested if not osp.exists(direct) and osp.exists(nested) else direct


def read_test_list(folder: str) -> List[Tuple[str, str]]:
    """The listed test videos, each line checked.

    Args:
        folder (str): A Celeb-DF download.

    Returns:
        list[tuple[str, str]]: ``(subfolder, file name)`` per line, in the list's order.

    Raises:
        ConverterError: A line that is not ``<0|1> <folder>/<file>.mp4`` with a known
            folder and a label that agrees with it, named by file and line number.
    """
    path = osp.join(folder, TEST_LIST)
    listed, seen = [], set()
    with open(path, encoding='utf-8-sig', errors='replace') as f:  # a BOM is no label
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f'{path} line {number}'
            parts = line.split()
            rel = parts[1].replace('\\', '/') if len(parts) == 2 else ''
            subfolder, _, name = rel.partition('/')
            if len(parts) != 2 or parts[0] not in LIST_LABEL or not name.endswith('.mp4') \
                    or '/' in name:
                raise ConverterError(f'{where}: {line.strip()[:80]!r} is not "<label> '
                                     '<folder>/<file>.mp4" with label 1 (real) or 0 (fake)')
            if subfolder not in FOLDERS:
                raise ConverterError(f'{where}: unknown folder {subfolder!r}; Celeb-DF has '
                                     f'{", ".join(FOLDERS)}')
            if LIST_LABEL[parts[0]] != FOLDERS[subfolder][1]:
                raise ConverterError(
                    f'{where}: label {parts[0]} contradicts {subfolder}/ (Celeb-DF lists '
                    f'real videos with 1, {FAKE_FOLDER} with 0): is this the official list?')
            if (subfolder, name) not in seen:
                seen.add((subfolder, name))
                listed.append((subfolder, name))
    return listed


def celebdf_jobs(folder: str, version: str) -> Dict[str, List[VideoJob]]:
    """The test videos (listed) and training videos (every other one) of one version.

    Args:
        folder (str): The version's download.
        version (str): ``'v1'`` or ``'v2'`` (the output group).

    Returns:
        dict[str, list[VideoJob]]: ``'train'`` and ``'test'`` -> their videos (listed
        videos missing from the download included: the report counts them).

    Raises:
        ConverterError: A malformed test list, or two videos with one id.
    """
    def job(subfolder: str, path: str) -> VideoJob:
        method, label = FOLDERS[subfolder]
        return VideoJob(path, method, osp.splitext(osp.basename(path))[0], label, version)

    test = [job(sub, video_path(folder, sub, name)) for sub, name in read_test_list(folder)]
    listed = {osp.abspath(j.source) for j in test}
    found: List[VideoJob] = []
    for subfolder in FOLDERS:
        paths = glob.glob(osp.join(folder, subfolder, '*.mp4')) \
            + glob.glob(osp.join(folder, subfolder, 'videos', '*.mp4'))
        found += [job(subfolder, p) for p in sorted(paths)]
    owners: Dict[Tuple[str, str], str] = {}
    for j in found + test:
        key = (j.method, j.video_id)
        if owners.setdefault(key, j.source) != j.source:
            raise ConverterError(f'{j.source} and {owners[key]} have the same video id '
                                 f'{j.video_id!r}: keep one of them')
    train = [j for j in found if osp.abspath(j.source) not in listed]
    return {'train': train, 'test': test}


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Celeb-DF v1 / v2 videos -> face crops, train and test lists')
    parser.add_argument('root', help='the Celeb-DF download (has List_of_testing_videos.txt), '
                        'or a folder holding Celeb-DF-v1/ and Celeb-DF-v2/')
    parser.add_argument('out', help='output folder')
    parser.add_argument('--version', nargs='+', default=['v2'], choices=VERSIONS,
                        help='Celeb-DF versions to convert (default: v2)')
    parser.add_argument('--splits', nargs='+', default=list(SPLITS), choices=SPLITS,
                        help='test = the videos of List_of_testing_videos.txt, train = the '
                        'others (default: both; cross-dataset testing needs test only)')
    add_conversion_arguments(parser)
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, dict]:
    args = parse_args(argv)
    check_input_folders(args.root)
    versions = list(dict.fromkeys(args.version))
    splits = list(dict.fromkeys(args.splits))
    jobs = {}  # every list is read and checked before anything is written
    for version in versions:
        folder = version_folder(args.root, version, len(versions) == 1)
        jobs[version] = celebdf_jobs(folder, version)
    options = prepare_conversion(args, args.root)
    reports = {}
    for version in versions:
        reports[version] = convert_dataset(
            f'celebdf_{version}', args.out, {s: jobs[version][s] for s in splits},
            {s: f'celebdf_{version}_{s}.jsonl' for s in splits}, options,
            workers=args.workers)
    return reports


if __name__ == '__main__':
    run_converter(main, 'celebdf.py', sys.argv[1:])
