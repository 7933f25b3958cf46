from django.urls import NoReverseMatch, reverse

from accounts.navigation import NAVIGATION
from accounts.permissions import user_can
from accounts.roles import Role
from accounts.selectors import mfa_required, user_roles


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "nav_roles": []}
    labels = dict(Role.choices)
    roles = [labels.get(r, r) for r in user_roles(user=user)]
    if mfa_required(user=user) and not getattr(user, "is_verified", lambda: True)():
        return {"nav_items": [], "nav_roles": roles}  # nothing to reach before the code
    items = []
    for label, url_name, capability in NAVIGATION:
        if capability and not user_can(user=user, capability=capability):
            continue
        try:
            items.append({"label": label, "url": reverse(url_name)})
        except NoReverseMatch:
            continue
    return {"nav_items": items, "nav_roles": roles}
