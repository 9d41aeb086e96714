"""A web page for analysts: drop an image or a video, see the overlay, the heat map and the
fake probability, and for a video the per-frame score curve and its highest-scoring frames;
download its prediction files as ``tools/infer.py`` writes them (a zip). The page itself is
``tools/web_page/``.

    python tools/web_demo.py CONFIG CHECKPOINT [--port 7860] [--device cpu]
    python tools/web_demo.py configs/dadf/dadf_sam-tiny_synthetic-demo.py work_dirs/demo

CHECKPOINT is a ``.pth`` file or a training work dir (its newest ``best_*.pth``, else its
last checkpoint). The page listens on 127.0.0.1 (this machine only) unless ``--host`` says
otherwise; it has no login, so bind another address only on a network you trust.

Images larger than ``--max-megapixels`` are refused from their header, before they are
decoded; every upload is deleted from the server once it has been analysed, and the
page's temporary folder (``dadf_web_demo_*`` in ``GRADIO_TEMP_DIR`` or the system's
temporary folder) when it stops (Ctrl+C or ``kill``).
"""
import argparse
import os
import shutil
import signal
import sys
import tempfile

os.environ.setdefault('GRADIO_ANALYTICS_ENABLED', 'False')


import dadf_mm  # noqa: F401
from dadf_mm.apis.cpu_path import EXACT_HELP

from tool_setup import (
    ToolArgumentParser,
    ToolError,
    add_config_arguments,
    add_image_limit_argument,
    building,
    config_and_checkpoint,
    device,
    port,
    positive_int,
    probability,
    run_tool,
)
from web_page import LOOPBACK_HOSTS, build_page, check_address, launch_page

TOOL = 'web_demo.py'


def parse_args() -> argparse.Namespace:
    parser = ToolArgumentParser(description='DADF forgery analysis in a browser')
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='a .pth file, or a training work dir')
    parser.add_argument('--host', default='127.0.0.1',
                        help='address to listen on (default 127.0.0.1: this machine only)')
    parser.add_argument('--port', type=port, default=7860, help='1 to 65535 (default 7860)')
    parser.add_argument('--device', type=device, default=None,
                        help="'cpu', 'cuda', 'cuda:1' ... (default: a GPU if there is one)")
    parser.add_argument('--threshold', type=probability, default=None,
                        help='fake-probability threshold of the decision, 0 to 1 (default: '
                        "the one calibrated on the validation set in the checkpoint's meta, "
                        'else 0.5)')
    parser.add_argument('--num-frames', type=positive_int, default=16,
                        help='evenly spaced frames per video')
    parser.add_argument('--top-k', type=positive_int, default=4,
                        help="how many of a video's highest-scoring frames to show")
    add_image_limit_argument(parser)
    parser.add_argument('--exact', action='store_true', help=EXACT_HELP)
    parser.add_argument('--detect-faces', action='store_true',
                        help='start with "crop the largest face of an image" ticked')
    parser.add_argument('--detector', default=None,
                        help="face detector: 'centerface' (default), 'haar' (OpenCV Haar "
                        "cascade) or a factory as 'module:function'")
    add_config_arguments(parser, checkpoint=True)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    checkpoint = config_and_checkpoint(args)
    try:  # a port in use or a wrong --host: one line before the model is built
        check_address(args.host, args.port)
    except OSError as err:
        raise ToolError(str(err)) from err
    from dadf_mm.preprocessing import build_face_detector
    try:  # the face detector (its model file): one line before the model is built
        detector = build_face_detector(args.detector)
    except (ValueError, RuntimeError, FileNotFoundError) as err:
        raise ToolError(str(err)) from err
    from dadf_mm.apis.inference import ForgeryInferencer
    where = {} if args.device is None else dict(device=args.device)
    inferencer = building(f'building the model of {args.config}', lambda: ForgeryInferencer(
        args.config, checkpoint, threshold=args.threshold, cfg_options=args.cfg_options,
        allow_partial_checkpoint=args.allow_partial_checkpoint,
        allow_new_keys=args.allow_new_keys, max_megapixels=args.max_megapixels,
        exact=args.exact, **where))
    inferencer.face_detector = detector
    # the page's files (uploads, the pictures it serves) in a folder of its own, removed
    # when it stops; Gradio reads GRADIO_TEMP_DIR when it is imported (by build_page)
    folder = tempfile.mkdtemp(prefix='dadf_web_demo_', dir=os.environ.get('GRADIO_TEMP_DIR'))
    os.environ['GRADIO_TEMP_DIR'] = folder
    signal.signal(signal.SIGTERM, stop)  # `kill` closes the page as Ctrl+C does
    try:
        serve(args, inferencer, checkpoint)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def serve(args: argparse.Namespace, inferencer, checkpoint: str) -> None:
    """Build the page, serve it until Ctrl+C or a termination signal, and close it."""
    print(f'{TOOL}: {inferencer.decision.description}', flush=True)
    page = build_page(inferencer, threshold=inferencer.threshold, num_frames=args.num_frames,
                      top_k=args.top_k, detect_faces=args.detect_faces,
                      max_megapixels=args.max_megapixels)
    try:
        url = launch_page(page, host=args.host, port=args.port)
    except OSError as err:
        raise ToolError(f'cannot listen on {args.host}:{args.port} ({err}); pass another '
                        '--port') from err
    if args.host not in LOOPBACK_HOSTS:
        print(f'{TOOL}: listening on {args.host}: anyone who reaches this address can '
              'upload files to the page (it has no login)', file=sys.stderr)
    print(f'{TOOL}: model {args.config} with {checkpoint}; open {url} in a browser '
          '(Ctrl+C stops)', flush=True)
    try:
        page.block_thread()  # Ctrl+C: Gradio closes the server
    except KeyboardInterrupt:
        page.close()


def stop(signum: int, frame) -> None:
    """A termination signal as Ctrl+C, so that the page closes and deletes its files."""
    raise KeyboardInterrupt


if __name__ == '__main__':
    run_tool(main, TOOL)
