"""System checks: every retention rule's period is valid (longer than zero, not under a legal minimum)."""

from collections.abc import Iterable
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, register

from raksa.retention.rules import RuleRefusedError, rules


@register("retention")
def check_rule_periods(app_configs: Iterable[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for rule in rules():
        try:
            rule.checked_period()
        except RuleRefusedError as refusal:
            errors.append(Error(str(refusal), obj=rule.code, id="retention.E001"))
    return errors
