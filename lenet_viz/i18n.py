"""Every text a user sees, in English and Simplified Chinese, from one catalogue per language.

The catalogues are ``lenet_viz/locales/<lang>.json``: flat ``{key: text}`` maps whose texts use
named placeholders (``{size}``), so a translation can put them in its own order. A key missing
from a translation falls back to English (a unit test makes sure none is missing); an unknown key
is a bug and raises ``KeyError``. No Streamlit here: ``lenet_viz.ui`` picks the session's language.

Errors carry a key and values (:class:`lenet_viz.errors.LenetVizError`), so a page can show them in
the reader's language; such an error given as a value to :func:`t` is translated too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

LANGS: tuple[str, ...] = ("en", "zh")
DEFAULT_LANG = "en"
LANG_NAMES = {"en": "English", "zh": "中文"}
LOCALES = Path(__file__).parent / "locales"


@cache
def catalogue(lang: str) -> dict[str, str]:
    """One language's messages, read once."""
    return json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))


class Msg(str):
    """A message that is its English text (so it goes wherever a ``str`` goes: logs, the CLI, tests)
    and can be put in another language when shown: ``Msg(key, **values).text("zh")``. Library code
    returns these where it used to return English strings; pages show ``localize(value, lang)``.
    Joining it to other text makes a plain ``str`` again (English only)."""

    key: str
    values: dict[str, Any]

    def __new__(cls, key: str, /, **values: Any) -> Msg:
        message = super().__new__(cls, t(key, DEFAULT_LANG, **values))
        message.key, message.values = key, values
        return message

    def __reduce__(self):  # copies and pickles rebuild it from its key, not from its English text
        return _rebuild_msg, (self.key, self.values)

    def text(self, lang: str = DEFAULT_LANG) -> str:
        return t(self.key, lang, **self.values)


def _rebuild_msg(key: str, values: dict[str, Any]) -> Msg:
    return Msg(key, **values)


class Msgs(str):
    """Several messages shown as one list ("a, b"; "a; b" with ``separator="list.semicolon"``), each in
    the reader's language, joined by its punctuation (Chinese: "、", "；"); its English text is the
    English list, as for :class:`Msg`."""

    messages: tuple[str, ...]
    separator: str

    def __new__(cls, messages: Iterable[str], separator: str = "list.separator") -> Msgs:
        messages = tuple(messages)
        joined = super().__new__(cls, t(separator, DEFAULT_LANG).join(messages))
        joined.messages, joined.separator = messages, separator
        return joined

    def __reduce__(self):
        return Msgs, (self.messages, self.separator)

    def text(self, lang: str = DEFAULT_LANG) -> str:
        return t(self.separator, lang).join(_as_text(m, lang) for m in self.messages)


def localize(value: Any, lang: str) -> Any:
    """A :class:`Msg` or an error in ``lang``; any other value as it is (a plain string stays English)."""
    return _as_text(value, lang)


def _as_text(value: Any, lang: str) -> Any:
    """A :class:`Msg` or an error among the values is put in the same language; others pass as they are."""
    if isinstance(value, (Msg, Msgs)):
        return value.text(lang)
    if isinstance(value, BaseException):
        text = getattr(value, "text", None)
        return text(lang) if callable(text) else str(value)
    return value


def t(key: str, lang: str = DEFAULT_LANG, /, **values: Any) -> str:
    """The message ``key`` in ``lang`` (English if that language lacks it), placeholders filled."""
    text = catalogue(lang).get(key) if lang in LANGS else None
    if text is None:
        text = catalogue(DEFAULT_LANG)[key]
    return text.format(**{name: _as_text(v, lang) for name, v in values.items()}) if values else text


def count_text(key: str, count: float, lang: str = DEFAULT_LANG) -> str:
    """``key`` said of ``count`` things: ``<key>_one`` for exactly one (English's singular; Chinese
    says both alike), else ``key`` with ``{count}`` filled (a fraction as short as it goes: 2.5, 10)."""
    return t(f"{key}_one" if count == 1 and has(f"{key}_one") else key, lang,
             count=f"{count:g}" if isinstance(count, float) else count)


def has(key: str) -> bool:
    """Whether the English catalogue defines ``key``."""
    return key in catalogue(DEFAULT_LANG)


def language_of(locale: str | None) -> str:
    """The app language for a browser locale such as ``zh-CN`` or ``en-GB``; English when unknown."""
    primary = (locale or "").replace("_", "-").split("-")[0].lower()
    return primary if primary in LANGS else DEFAULT_LANG


def class_name(name: str, lang: str = DEFAULT_LANG) -> str:
    """A dataset class as the reader calls it (Fashion-MNIST's ``Trouser`` is ``裤子``); digits stay."""
    key = f"class.{name}"
    return t(key, lang) if has(key) else name


def class_names(names: tuple[str, ...] | list[str], lang: str = DEFAULT_LANG) -> list[str]:
    """:func:`class_name` of each; checkpoints keep the English names, the reader sees these."""
    return [class_name(n, lang) for n in names]
