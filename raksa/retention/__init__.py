"""Retention: one engine ends every store's personal data when its period is over (PDPA s37(3)).

Rules (raksa/retention/rules.py) come from each app's `retention.py`; `engine.plan` is the dry run,
`actions.run_retention` the run, and legal holds (`models.LegalHold`) keep what they cover. See
docs/retention.md.
"""
