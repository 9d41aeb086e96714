"""Fetch the official SAM checkpoints into checkpoints/, where the configs look for them.

    python tools/download_sam_checkpoints.py                  # vit_h, vit_l and vit_b
    python tools/download_sam_checkpoints.py vit_b            # one of them
    python tools/download_sam_checkpoints.py --verify-only    # check the files already there
    python tools/download_sam_checkpoints.py --mirror URL     # URL/<name> instead of the release

Each file is checked against its published MD5 (the six hex digits in its name are the
first six of it) and SHA-256 before it is put in place; a verified file already there is not
fetched again; an interrupted download continues from its ``.part`` file. Exits 1 when a
file could not be fetched or verified, with one line per file saying what to do.
"""
import argparse
import os.path as osp
import sys

from checkpoint_download import (
    SAM_CHECKPOINTS,
    CheckpointDownloadError,
    download_checkpoint,
    download_options_problem,
    verify_checkpoint,
)

TOOL = 'download_sam_checkpoints.py'
ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='fetch and verify the SAM checkpoints')
    parser.add_argument('archs', nargs='*', metavar='ARCH',
                        help=f'which ({", ".join(SAM_CHECKPOINTS)}; default all)')
    parser.add_argument('--dir', default=osp.join(ROOT, 'checkpoints'),
                        help='where they go (default: checkpoints/ of this repository, '
                             'the configs\' checkpoints/sam_vit_*.pth)')
    parser.add_argument('--verify-only', action='store_true',
                        help='only check the files already there; fetch nothing')
    parser.add_argument('--mirror', default=None,
                        help='fetch URL/<file name> instead of the segment-anything release')
    parser.add_argument('--timeout', type=float, default=60.0,
                        help='seconds without data before a download is given up')
    parser.add_argument('--quiet', action='store_true', help='no progress bars')
    return parser.parse_args()


def main() -> int:
    args = parse_args()
    unknown = [a for a in args.archs if a not in SAM_CHECKPOINTS]
    if unknown:
        sys.exit(f'{TOOL}: unknown arch {", ".join(unknown)}; choose from '
                 f'{", ".join(SAM_CHECKPOINTS)}')
    problem = download_options_problem(folder=args.dir, mirror=args.mirror,
                                       timeout=args.timeout)
    if problem:
        sys.exit(f'{TOOL}: {problem}')
    failed = 0
    for arch in args.archs or list(SAM_CHECKPOINTS):
        spec = SAM_CHECKPOINTS[arch]
        try:
            if args.verify_only:
                path = verify_checkpoint(spec, args.dir, progress=not args.quiet)
            else:
                url = f'{args.mirror.rstrip("/")}/{spec.name}' if args.mirror else None
                path = download_checkpoint(spec, args.dir, url=url, timeout=args.timeout,
                                           progress=not args.quiet)
        except CheckpointDownloadError as err:
            failed += 1
            print(f'{TOOL}: {err}', file=sys.stderr)
            continue
        print(f'{arch}: {path} verified (MD5 {spec.md5}, SHA-256 {spec.sha256})', flush=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
