"""The one exception type a command turns into a one-line message and exit status 2."""


class UsageError(Exception):
    """Bad input the user can fix: unknown study, invalid option, missing or corrupt data, ...

    The message is one line naming the problem and what to do; commands print it as
    `error: <message>` and exit with status 2, having written nothing.
    """

    exit_status = 2


class StudyFailed(Exception):
    """A run that could not do its work (its trials keep failing): one line, exit status 1."""

    exit_status = 1
