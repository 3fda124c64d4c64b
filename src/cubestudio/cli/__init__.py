"""The `cube` command line: typer commands, rich progress, and the ``--json`` contract.

Contract (users script against it): ``--json`` prints exactly one JSON object (or array) on
stdout; exit 0 when the run succeeded, 1 when it did not, 2 for a usage or validation error
(nothing was run or stored). Progress goes to stderr, and only on a TTY.
"""
