"""The lab's two kinds of failure: bad input (exit 2) and a run that went wrong (exit 1); and the stop
signals, raised as one exception wherever the lab listens for them."""

import signal


class UsageError(Exception):
    """Bad input: a name, number or option the lab cannot accept. Reported as one line, exit 2."""


class RunError(Exception):
    """A run failed: a task raised, a worker died, a run timed out, or results did not verify."""


class RunTimeout(RunError):
    """A run did not finish within its deadline."""


class VerificationError(RunError):
    """Results differ from the serial reference of the same workload and size."""


class Interrupted(KeyboardInterrupt):
    """An ending signal (SIGINT, SIGTERM, SIGHUP), raised as a KeyboardInterrupt so that the clean-up of
    Ctrl-C runs for each; its text is the signal's name."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
