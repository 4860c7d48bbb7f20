"""Secrets out of every text uvci shows or writes: URL user-info and credential query values.

:func:`redact` turns ``https://user:p@ss@host/simple?token=abc&x=1`` into
``https://user:****@host/simple?token=****&x=1`` (a user name without a password is masked
whole: it may be a token). The user-info is everything between
``scheme://`` and the *last* ``@`` before the host (a password may itself contain ``@``); a
query parameter is a credential when its name says so (token, secret, password, signature,
credential, auth, key, ...: what index URLs, signed S3/GCS URLs and API gateways use).
"""

from __future__ import annotations

import re

MASK = "****"
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?P<info>[^/?#\s\"'<>]+)@")
_SECRET_PARAM = re.compile(
    r"(?P<name>[?&;](?:[\w.-]*?(?:token|secret|passw(?:or)?d|pwd|signature|sig|credential"
    r"|auth|key|session)[\w.-]*)=)(?P<value>[^&#;\s\"'<>]+)",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """``text`` with URL passwords and credential query values shown as ``****``."""
    text = _USERINFO.sub(_mask_info, text)
    return _SECRET_PARAM.sub(lambda m: m.group("name") + MASK, text)


def _mask_info(match: re.Match[str]) -> str:
    """``user:****@``; a user name alone may be a token (``https://TOKEN@host``): ``****@``."""
    user, sep, _ = match.group("info").partition(":")
    return f"{match.group('scheme')}{user + ':' if sep else ''}{MASK}@"
