"""Free text that may quote a URL (an error message, a camera's stream status): its password masked."""

import re

_CREDENTIALS = re.compile(r"(\w+://[^\s/:@]*):[^\s/@]*@")


def credentials_masked(text: str) -> str:
    return _CREDENTIALS.sub(r"\1:***@", text or "")
