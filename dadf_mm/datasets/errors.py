"""The error types of dataset files: one family, so a caller can catch every data problem.

Every message is one line naming the file (and line, or key), what is wrong and the fix.
They stay ``ValueError`` (and ``FileNotFoundError`` for missing files) so code written
against the built-in types keeps working.
"""


class ForgeryDataError(ValueError):
    """A dataset file (annotation list, image, mask) that cannot be used as it is."""


class AnnotationError(ForgeryDataError):
    """A malformed annotation list; the message names the file and line (or item)."""


class MissingDataFileError(ForgeryDataError, FileNotFoundError):
    """A listed (or configured) file that does not exist."""


def one_line(err: BaseException, limit: int = 160) -> str:
    """``err`` as a short single line (OpenCV's messages span several lines).

    Args:
        err (BaseException): the error to describe.
        limit (int): at most this many characters of its message. Defaults to 160.

    Returns:
        str: ``'<type>: <message>'`` on one line.
    """
    text = ' '.join(str(err).split()) or 'no message'
    if len(text) > limit:
        text = text[:limit - 3] + '...'
    return f'{type(err).__name__}: {text}'
