"""What each role sees in the navigation: (label, url name, capability needed).

Entries whose URL does not exist yet are skipped, so apps add theirs as they land.
"""

NAVIGATION: list[tuple[str, str, str | None]] = [
    ("Home", "home", None),
    ("Watchlists", "watchlists:list", "view_watchlist"),
    ("Subjects", "watchlists:subjects", "view_watchlist"),
    ("Reviews due", "watchlists:review_due", "manage_watchlist"),
    ("Approvals", "watchlists:approval_queue", "approve_watchlist"),
    ("Deployments", "deployments:list", "view_deployment"),
    ("Authorisations", "deployments:authorisation_queue", "authorise_deployment"),
    ("Cameras", "deployments:cameras", "view_deployment"),
    ("Live alerts", "alerts:live_index", "view_alerts"),
    ("Audit log", "audit:log", "view_audit_log"),
    ("Statistics", "reports:index", "view_statistics"),
    ("Subject access", "oversight:subject_access", "search_subject_access"),
    ("Users", "accounts:users", "manage_users"),
]
