"""UserError: the root of every error a user's input or situation causes.

Each says, in one sentence, what is wrong and what to do; the command line
prints it and exits 2. Raising one of its kinds (a bad run folder, a fork
that cannot be made, ...) needs no change where the command line catches
them, and catching them needs no import of the modules that raise them.
"""

from __future__ import annotations


class UserError(Exception):
    """Something the user can put right (one sentence, exit 2)."""
