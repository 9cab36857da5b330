"""Errors a user can fix. The CLI prints their message as one line and exits with code 2."""


class RecruitsimError(Exception):
    """Base of every error caused by input, not by a bug."""


class ScenarioError(RecruitsimError):
    """A scenario file or override is invalid: the message names the file, the key path and what is allowed."""


class OutputError(RecruitsimError):
    """An output directory cannot be written (exists already, not writable, ...)."""


class RecruitsimWarning(UserWarning):
    """Something the user should know that does not stop the command; the CLI prints one
    `warning:` line for each."""


class ScenarioWarning(RecruitsimWarning):
    """A scenario that runs but does not do what it says (an intervention that cannot act, fewer
    initial networks than asked for). The CLI prints each as one `warning:` line."""


class ResourceError(RecruitsimError):
    """The machine cannot hold what was asked for (memory): refused before any work starts."""


class DamagedShardWarning(RecruitsimWarning):
    """A comparison's shard failed its checks on reading (truncated, changed, missing a file) and is run again."""


def show_warnings_in_one_line() -> None:
    """From now on, a RecruitsimWarning is shown as one `warning: <message>` line on stderr, once
    per message (Python's own format adds the file, line number and source line of the code that
    warned). The command line and compare's worker processes both use it."""
    import sys
    import warnings

    shown = warnings.showwarning

    def show(message, category, filename, lineno, file=None, line=None):
        if issubclass(category, RecruitsimWarning):
            print(f"warning: {' '.join(str(message).split())}", file=sys.stderr, flush=True)
        else:
            shown(message, category, filename, lineno, file, line)

    warnings.simplefilter("default", RecruitsimWarning)
    warnings.showwarning = show

