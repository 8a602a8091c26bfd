"""The one exception heatpy raises for a tool this machine lacks."""


class Unavailable(RuntimeError):
    """A tool that cannot run on this machine; the message says why and what to install."""
