"""Demo accounts: one per role. Never created when LFR_ENV=production."""

from accounts.roles import Role

DEMO_USERS: list[tuple[str, str, Role]] = [
    ("detective", "Dana Detective", Role.DETECTIVE),
    ("commander", "Chris Commander", Role.AUTHORISING_OFFICER),
    ("officer", "Olu Officer", Role.OFFICER),
    ("oversight", "Ola Oversight", Role.OVERSIGHT),
    ("admin", "Ash Admin", Role.ADMIN),
]


def demo_password(username: str) -> str:
    return f"demo-{username}-2026"
