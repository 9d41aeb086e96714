"""How a dataset converter stops: a wrong input, or a signal."""
from typing import Optional


class ConverterError(ValueError):
    """A converter's wrong argument or input, found before the work it would spoil; its
    message (one line naming the argument or folder and the fix) is the whole report."""


class ConversionStopped(BaseException):
    """SIGINT (Ctrl-C) or SIGTERM during a conversion.

    A ``BaseException``, like ``KeyboardInterrupt``, so that the per-video error handling
    (which turns an ``Exception`` into a failed video) lets it through.

    Args:
        name (str): The signal's name, e.g. ``'SIGINT'``.
        signum (int): Its number (the exit status is 128 + ``signum``).
    """

    def __init__(self, name: str, signum: int) -> None:
        super().__init__(name)
        self.name = name
        self.signum = signum
        #: videos converted in this run before the signal, and the run's to-do count
        #: (None when the signal came outside the conversion loop)
        self.converted: Optional[int] = None
        self.total: Optional[int] = None

    def report(self) -> str:
        """The one line a converter ends with.

        Returns:
            str: What stopped it, what was kept and how to go on.
        """
        done = '' if self.total is None else (
            f' after converting {self.converted} of {self.total} videos')
        return (f'stopped by {self.name}{done}; every video finished so far is kept, and the '
                'same command converts the rest')
