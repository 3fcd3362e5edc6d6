"""One error type for bad user input, so every entry point reports it the same way."""

from __future__ import annotations


class InputError(ValueError):
    """Bad input data or configuration, located as precisely as we can.

    Args:
        message: what is wrong.
        path: the file at fault, if any.
        line: 1-based line number in ``path``, if known.
    """

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = self.path if self.line is None else f"{self.path}:{self.line}"
            where += ": "
        return where + self.message


class Interrupted(KeyboardInterrupt):
    """Ctrl-C, with one line saying where the run stopped and how to continue it."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        return self.message
