"""What is wrong with a drop, said precisely and briefly: file, row, column, what."""

from __future__ import annotations

from dataclasses import dataclass

MAX_REPORTED = 25  # an error message lists at most this many problems (then "... and N more")
MAX_VALUE = 40  # characters of an offending value shown (never more: files may hold anything)


@dataclass(frozen=True)
class Problem:
    file: str
    row: int | None  # CSV line (header = 1) or Parquet record number; None: the whole file
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" row {self.row}"
        if self.column:
            where += f" column {self.column}"
        return f"{where}: {self.message}"


def shown(value: object) -> str:
    """An offending value as shown in an error: quoted, cut to ``MAX_VALUE`` characters."""
    text = str(value)
    return repr(text if len(text) <= MAX_VALUE else text[:MAX_VALUE] + "...")


class IntakeError(ValueError):
    """A drop refused as a whole; ``problems`` says every reason found (the message the first few)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = [str(p) for p in problems[:MAX_REPORTED]]
        if len(problems) > MAX_REPORTED:
            lines.append(f"... and {len(problems) - MAX_REPORTED} more")
        super().__init__(f"drop refused, {len(problems)} problem(s):\n  " + "\n  ".join(lines))
