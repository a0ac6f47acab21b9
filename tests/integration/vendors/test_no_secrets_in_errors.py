"""No vendor secret or token in what a failing hook leaves behind: exception texts (also pickled,
as Airflow ships them), their causes, and the hook's log output.

Every failure class that surfaces to a task is provoked for real against the sandboxes: rejected
credentials, a persistent 5xx, malformed JSON, a timeout, an expired token. The scan covers every
secret the sandboxes know (``SandboxFleet.secrets()``: client secret, API key, password, admin
token, every bearer token they issued) plus the wrong secrets the test sent.
"""

from __future__ import annotations

import logging
import pickle

import pytest

from ccms_attendance.canonical import Source
from ccms_attendance.hooks import CcmsExtractionError

VENDORS = [Source.ALLIANCE_CORE, Source.BRIGHTWHEEL, Source.PLAYGROUND]
DATA_PATH = {
    Source.ALLIANCE_CORE: "/v1/facilities/*/attendance-events",
    Source.BRIGHTWHEEL: "/v1/schools/*/attendance_records",
    Source.PLAYGROUND: "/api/v2/exports/*/rows",
}
FAULTS = {
    "5xx": {"kind": "http_5xx", "status": 500, "times": None},
    "malformed_json": {"kind": "malformed_json", "times": None},
    "slow": {"kind": "slow", "delay_seconds": 1.0, "times": None},
}
WRONG_SECRET = "wrong-secret-Zq8ycLwT0kPp"


def _texts(error: BaseException) -> list[str]:
    texts = [str(error), repr(error), repr(pickle.loads(pickle.dumps(error)).args)]
    cause = error.__cause__ or error.__context__
    while cause is not None:
        texts.append(repr(cause))
        cause = cause.__cause__ or cause.__context__
    return texts


def _assert_clean(fleet, error: BaseException, log_text: str, extra: tuple[str, ...] = ()) -> None:
    secrets = {**fleet.secrets(), **{f"sent {n}": s for n, s in enumerate(extra)}}
    haystacks = [*_texts(error), log_text]
    leaks = [name for name, secret in secrets.items() for text in haystacks if secret in text]
    assert not leaks, leaks


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("source", VENDORS)
def test_failures_name_vendor_site_period_and_no_secret(world, fleet, extract, caplog, source, fault):
    fleet.set_faults([{**FAULTS[fault], "path": DATA_PATH[source]}], source)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(CcmsExtractionError) as caught:
        extract(source, max_attempts=2, read_timeout=0.3)
    assert str(caught.value).startswith(f"{source} site {world.license(source, 'main')} period ")
    _assert_clean(fleet, caught.value, caplog.text)


@pytest.mark.parametrize("source", VENDORS)
def test_rejected_credentials_do_not_echo_the_secret(world, fleet, extract, caplog, source):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(CcmsExtractionError, match="401") as caught:
        extract(source, password=WRONG_SECRET)
    _assert_clean(fleet, caught.value, caplog.text, extra=(WRONG_SECRET,))


def test_tokens_that_expire_mid_period_are_not_logged(world, fleet, extract, caplog, use_scenario):
    use_scenario(world.base_scenario({"alliance_core_token_max_uses": 1}))
    caplog.set_level(logging.DEBUG)
    assert extract(Source.ALLIANCE_CORE, page_size=5)  # re-authenticates after every page
    assert len(fleet.issued_tokens(Source.ALLIANCE_CORE)) > 1
    leaks = [name for name, secret in fleet.secrets().items() if secret in caplog.text]
    assert not leaks, leaks
