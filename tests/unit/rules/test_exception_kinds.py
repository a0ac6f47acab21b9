"""The exception catalogue: every kind has a severity, an actor and advice; unknown kinds are refused."""

from __future__ import annotations

import pytest

from ccms_attendance.rules.exception_kinds import CATALOG, ExceptionKind, Severity, advice_for


def test_every_kind_has_a_catalogue_entry_with_advice():
    assert set(CATALOG) == set(ExceptionKind)
    for kind, info in CATALOG.items():
        assert info.advice.endswith("."), kind
        assert len(info.advice) <= 120, kind  # one line in the report and the provider feedback


def test_only_the_unlinked_license_is_critical():
    assert [k for k in ExceptionKind if k.severity is Severity.CRITICAL] == [ExceptionKind.LICENSE_NOT_LINKED]


def test_an_unknown_kind_cannot_be_made_and_has_no_advice():
    with pytest.raises(ValueError, match="made_up_kind"):
        ExceptionKind("made_up_kind")
    assert advice_for("made_up_kind") == ""
    assert advice_for("license_not_linked").startswith("Link the site's license")
