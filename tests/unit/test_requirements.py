"""requirements/ names the packages, constraints.txt pins them: one pin file, nothing unpinned."""

from __future__ import annotations

import importlib.metadata
import re

import pytest

from ccms_attendance.paths import PROJECT_ROOT

REQUIREMENTS = PROJECT_ROOT / "requirements"
_NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)")


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _named(path) -> list[str]:
    """The package names a requirements file lists itself (not through ``-r``)."""
    names = []
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.append(_canonical(_NAME.match(line)[1]))
    return names


def _pins() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (PROJECT_ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        assert sep, f"constraints.txt pins exact versions only: {line!r}"
        assert version, f"constraints.txt pins exact versions only: {line!r}"
        assert _canonical(name) not in pins, f"constraints.txt pins {name} twice"
        pins[_canonical(name)] = version
    return pins


@pytest.mark.parametrize("file", ["runtime.txt", "dev.txt", "celery.txt"])
def test_every_requirement_is_named_only_and_pinned_in_constraints(file: str) -> None:
    path = REQUIREMENTS / file
    pins = _pins()
    for line in path.read_text().splitlines():
        assert "==" not in line.split("#", 1)[0], f"{file}: versions belong in constraints.txt: {line!r}"
    unpinned = [name for name in _named(path) if name not in pins]
    assert not unpinned, f"{file} names packages constraints.txt does not pin: {unpinned}"


def test_dev_builds_on_runtime_and_the_tools_stay_out_of_runtime() -> None:
    assert "-r runtime.txt" in (REQUIREMENTS / "dev.txt").read_text().splitlines()
    tools = {"pytest", "hypothesis", "ruff", "mypy", "playwright", "pgserver", "pyinstrument"}
    assert tools <= set(_named(REQUIREMENTS / "dev.txt"))
    assert not tools & set(_named(REQUIREMENTS / "runtime.txt"))
    assert not {"apache-airflow-providers-celery", "redis"} & set(_named(REQUIREMENTS / "runtime.txt"))


def test_the_installed_package_depends_on_exactly_runtime_and_the_celery_extra() -> None:
    """pyproject reads requirements/ (dynamic), so a wheel declares what a deployment installs."""
    declared = importlib.metadata.requires("ccms-attendance") or []
    plain = sorted(_canonical(_NAME.match(r)[1]) for r in declared if "extra ==" not in r)
    celery = sorted(_canonical(_NAME.match(r)[1]) for r in declared if 'extra == "celery"' in r)
    assert plain == sorted(_named(REQUIREMENTS / "runtime.txt"))
    assert celery == sorted(_named(REQUIREMENTS / "celery.txt"))


def test_the_virtualenv_has_the_pinned_versions() -> None:
    """What `make venv` installed matches constraints.txt for every package requirements/ names."""
    pins = _pins()
    wrong = {}
    for file in ("runtime.txt", "dev.txt", "celery.txt"):
        for name in _named(REQUIREMENTS / file):
            installed = importlib.metadata.version(name)
            if installed != pins[name]:
                wrong[name] = (installed, pins[name])
    assert not wrong, f"installed vs pinned (rerun `make venv`): {wrong}"


def test_adopting_airflows_constraints_changes_only_what_airflow_pins() -> None:
    from devtools.constraints import adopt, differences

    ours = "apache-airflow==3.3.2\ngreat-expectations==1.24.1\nPyYAML==6.0.4\ntyping_extensions==4.16.0\n"
    official = "#\n# Airflow's header\n#\napache-airflow==3.3.2\npyyaml==6.0.3\ntyping-extensions==4.15.0\n"
    assert differences(ours, official) == [("PyYAML", "6.0.4", "6.0.3"), ("typing_extensions", "4.16.0", "4.15.0")]
    assert adopt(ours, official) == (
        "apache-airflow==3.3.2\ngreat-expectations==1.24.1\nPyYAML==6.0.3\ntyping_extensions==4.15.0\n"
    )
