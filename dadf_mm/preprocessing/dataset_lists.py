"""Reading a dataset's own list files (``metadata.json``, ``dataset.json``) for the
converters: a missing or malformed file is one line naming it, the line and the fix."""
import json

from .conversion_errors import ConverterError


def read_json_object(path: str) -> dict:
    """A list file holding one JSON object, or one line naming the file and the fault.

    Args:
        path (str): The file.

    Returns:
        dict: Its object.

    Raises:
        ConverterError: Missing, unreadable, not JSON (with line and column) or not an
            object.
    """
    try:
        with open(path, encoding='utf-8') as f:
            data = json.load(f)
    except FileNotFoundError:
        raise ConverterError(f'{path} does not exist; it comes with the download') from None
    except json.JSONDecodeError as err:
        raise ConverterError(f'{path} line {err.lineno} column {err.colno}: not valid JSON '
                             f'({err.msg}); download the file again') from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConverterError(f'{path} cannot be read ({err}); download it again') from None
    if not isinstance(data, dict):
        raise ConverterError(f'{path}: expected a JSON object of videos, got '
                             f'{type(data).__name__}')
    return data
