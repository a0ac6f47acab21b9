"""The README stays onboarding a newcomer reads in ten minutes; details belong in docs/."""

from __future__ import annotations

from ccms_attendance.paths import PROJECT_ROOT

README_WORD_LIMIT = 1500


def test_readme_is_at_most_1500_words() -> None:
    words = len((PROJECT_ROOT / "README.md").read_text().split())  # as `wc -w` counts them
    assert words <= README_WORD_LIMIT, (
        f"README.md has {words} words, the limit is {README_WORD_LIMIT}: move details to docs/"
    )
