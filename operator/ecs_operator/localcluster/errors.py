"""The one exception type of the local control plane: a message a user can act on."""


class LocalClusterError(Exception):
    """A failure explained for the user; `command.py` prints it as `error: <message>` and exits 1."""
