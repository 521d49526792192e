"""The one base class of the errors a user can cause (a bad spec, picture, checkpoint, data folder
or a refused run), so pages and the CLI catch exactly these and a bug still shows as a bug.

Each subclass also keeps the builtin base it had (``ValueError``, ``FileNotFoundError``,
``RuntimeError``), so callers written against those still work.

Messages the app shows are raised with :meth:`LenetVizError.keyed`: the error keeps a catalogue
key and its values, ``str(error)`` is the English text (logs, the CLI, tests), and
``error.text(lang)`` is the same message in the reader's language. Errors raised with a plain
message (those only the CLI shows) give that message in every language.
"""

from __future__ import annotations

from typing import Any

from lenet_viz.i18n import DEFAULT_LANG, Msg, t


class LenetVizError(Exception):
    """Something the user can fix; the message says what, in plain words."""

    def __init__(self, message: str = "", *, key: str | None = None, values: dict[str, Any] | None = None):
        if isinstance(message, Msg) and key is None:  # a library message raised as is keeps its key
            key, values = message.key, message.values
        self.key, self.values = key, dict(values or {})
        super().__init__(message or (t(key, DEFAULT_LANG, **self.values) if key else ""))

    @classmethod
    def keyed(cls, key: str, **values: Any) -> LenetVizError:
        """The error whose message is catalogue entry ``key`` filled with ``values``."""
        return cls(key=key, values=values)

    def text(self, lang: str = DEFAULT_LANG) -> str:
        """The message in ``lang``."""
        return t(self.key, lang, **self.values) if self.key else str(self)
