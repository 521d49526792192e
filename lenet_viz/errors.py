"""The one base class of the errors a user can cause (a bad spec, picture, checkpoint, data folder
or a refused run), so pages and the CLI catch exactly these and a bug still shows as a bug.

Each subclass also keeps the builtin base it had (``ValueError``, ``FileNotFoundError``,
``RuntimeError``), so callers written against those still work.
"""


class LenetVizError(Exception):
    """Something the user can fix; the message says what, in plain words."""
