"""Secrets out of every text uvci shows or writes: URL user-info and credential query values.

:func:`redact` turns ``https://user:p@ss@host/simple?token=abc&x=1`` into
``https://user:****@host/simple?token=****&x=1`` (a user name without a password is masked
whole: it may be a token). The user-info is everything between
``scheme://`` and the *last* ``@`` before the host (a password may itself contain ``@``); a
query parameter is a credential when its name says so (token, secret, password, signature,
credential, auth, key, ...: what index URLs, signed S3/GCS URLs and API gateways use).

Linear in the length of the text (a hostile lock's 100 KB URL must not take seconds): each
scan starts only where the previous one ended, at a ``://`` or a ``?``/``&``/``;``, and the
patterns have no nested or overlapping quantifiers.
"""

from __future__ import annotations

import re

MASK = "****"
_SCHEME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")
_INFO = re.compile(r"[^/?#\s\"'<>]*")  # the user-info run after ``scheme://`` (up to the host)
_PARAM = re.compile(r"[?&;](?P<name>[\w.-]*)=(?P<value>[^&#;\s\"'<>]*)")
_SECRET_NAME = re.compile(
    r"token|secret|passw(?:or)?d|pwd|signature|sig|credential|auth|key|session", re.IGNORECASE
)


def redact(text: str) -> str:
    """``text`` with URL passwords and credential query values shown as ``****``."""
    return _mask_params(_mask_userinfo(text))


def _has_scheme(text: str, end: int, floor: int) -> bool:
    """Whether ``text[:end]`` ends with a URL scheme (a letter, then letters, digits, ``+.-``);
    looks no further back than ``floor`` (where the previous scan ended: linear overall)."""
    start = end
    while start > floor and text[start - 1] in _SCHEME_CHARS:
        start -= 1
    return any(c.isascii() and c.isalpha() for c in text[start:end])


def _mask_userinfo(text: str) -> str:
    out: list[str] = []
    done = 0  # text[:done] is in out
    pos = 0
    while (sep := text.find("://", pos)) >= 0:
        start = sep + 3
        info = _INFO.match(text, start)
        end = info.end() if info else start
        at = text.rfind("@", start, end)
        if at > start and _has_scheme(text, sep, done):
            user, colon, _ = text[start:at].partition(":")
            out += [text[done:start], f"{user}:" if colon else "", MASK, "@"]
            done = at + 1
        pos = max(end - 1, start)  # "a:" + "//b@h": the run's last ":" may start a scheme
    out.append(text[done:])
    return "".join(out)


def _mask_params(text: str) -> str:
    out: list[str] = []
    done = 0
    pos = 0
    while (match := _PARAM.search(text, pos)) is not None:
        value_start = match.start("value")
        if match.group("value") and _SECRET_NAME.search(match.group("name")):
            out += [text[done:value_start], MASK]
            done = match.end("value")
            pos = done
        else:
            pos = value_start  # a value may hold the next parameter (``?a=b?token=x``)
    out.append(text[done:])
    return "".join(out)
