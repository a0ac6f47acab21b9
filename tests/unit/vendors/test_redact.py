"""``hooks.redact.Redactor``: vendor text in an error is bounded, on one line, without secrets."""

from __future__ import annotations

from ccms_attendance.hooks.redact import Redactor

SECRET = "s3cr3t-Client-Secret-Value"


def test_known_secrets_are_masked_wherever_they_appear():
    redactor = Redactor([SECRET, None, "abc"])  # non-strings and very short values are ignored
    assert redactor.scrub(f"invalid client {SECRET}!") == "invalid client ***!"
    assert redactor.scrub("abc is not a secret") == "abc is not a secret"
    redactor.add("tok_1234567890")
    assert redactor.scrub("token tok_1234567890 expired") == "token *** expired"


def test_credential_shapes_are_masked_whatever_their_value():
    redactor = Redactor()
    assert redactor.scrub("Authorization: Bearer eyJhbGciOi.payload.sig") == "Authorization: Bearer ***"
    assert redactor.scrub("client_secret=abc123&grant_type=x") == "client_secret=***&grant_type=x"
    assert redactor.scrub('{"password": "hunter22", "user": "u"}') == '{"password": "***", "user": "u"}'
    assert redactor.scrub("api_key: k-9f8e7d") == "api_key: ***"
    assert redactor.scrub("facility_not_found") == "facility_not_found"


def test_vendor_text_is_scrubbed_before_it_is_cut_and_kept_on_one_line():
    redactor = Redactor([SECRET])
    text = redactor.text("x" * 50 + SECRET, limit=60)
    assert SECRET[:5] not in text  # masked whole, never cut half-way
    assert len(text) <= 60
    assert redactor.text("line\nbreak\u202eevil\x00", limit=60) == "line break evil"
    assert redactor.text("y" * 100, limit=20) == "y" * 19 + "…"
    assert redactor.text(["not", "text"]) == "['not', 'text']"
