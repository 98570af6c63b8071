"""Exit codes and the errors vrrpscope reports to the user.

Every error's ``str()`` is one line that names the file or interface, says what is
wrong and what to do about it, so the CLI can print it as it is and exit with
``exit_code``.
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0  # analysis done, nothing at or above the --fail-on severity
EXIT_FINDINGS = 1  # findings at or above the --fail-on severity
EXIT_USAGE = 2  # bad command line or option value
EXIT_UNREADABLE = 3  # an input could not be read at all
EXIT_DAMAGED = 4  # an input was damaged part way: frames up to the damage were analysed
EXIT_LIVE = 5  # live capture could not start or failed (interface, privileges, BPF, gone)
EXIT_INTERNAL = 70  # a bug in vrrpscope (EX_SOFTWARE): traceback saved to a file
EXIT_INTERRUPTED = 130  # Ctrl-C (analyze, decode, plot; live stops with its summary)


def display_name(path: str) -> str:
    """How a path is named in messages ("-" is shown as "stdin")."""
    return "stdin" if path == "-" else path


def _one_line(text: str) -> str:
    return " ".join(text.split())


class VrrpscopeError(Exception):
    """Base of vrrpscope's errors: ``str()`` is one line, ``exit_code`` the exit status."""

    exit_code: int = EXIT_USAGE

    def __init__(self, message: str) -> None:
        super().__init__(_one_line(message))


class UsageError(VrrpscopeError):
    """The command line or an API argument is wrong."""

    exit_code = EXIT_USAGE


class LiveError(VrrpscopeError):
    """A live capture could not start or broke down."""

    exit_code = EXIT_LIVE


class InputError(VrrpscopeError):
    """An input cannot be read at all (missing, unreadable, empty, not a capture, ...)."""

    exit_code = EXIT_UNREADABLE

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = _one_line(problem)
        super().__init__(f"{display_name(path)}: {self.problem}")

    def __reduce__(self) -> tuple:
        return (type(self), (self.path, self.problem))


@dataclass(slots=True)
class Damage:
    """Damage met part way through an input; reading stopped at ``offset``.

    ``offset`` is the byte offset of the damaged record or block in the capture data
    (for a compressed file: in the decompressed data).
    """

    path: str
    offset: int
    message: str

    def outcome(self, done: str) -> str:
        """What became of the input, e.g. ``outcome("analysed")``."""
        return f"{done} up to there"

    def __str__(self) -> str:
        return f"{display_name(self.path)}: byte {self.offset}: {self.message}"
