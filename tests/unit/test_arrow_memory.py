"""Every process that imports the package allocates pyarrow's (hence pandas' text columns') memory
with the system allocator, unless the operator chose a pool (``ccms_attendance.arrow_memory``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from ccms_attendance.arrow_memory import POOL_ENV

# Which pools hold the bytes of a pandas text column and of a table read by pyarrow's CSV reader
# (its C++ code takes the C++ default pool), in a fresh process.
_SNIPPET = """
import io, json, sys
if sys.argv[1] == "pyarrow-first":
    import pyarrow
    pyarrow.array(["imported and used before the package"])
import ccms_attendance
import pandas as pd, pyarrow as pa, pyarrow.csv
frame = pd.Series([f"child-{i}" for i in range(200_000)], dtype="str").to_frame("child_id")
taken = frame[frame["child_id"].str.endswith("7")]
table = pyarrow.csv.read_csv(io.BytesIO(b"site_id\\n" + b"S-00001\\n" * 200_000))
pools = {name: getattr(pa, f"{name}_memory_pool")() for name in ("system", "mimalloc", "jemalloc")}
print(json.dumps({"default": pa.default_memory_pool().backend_name,
                  "holding": sorted(name for name, pool in pools.items() if pool.bytes_allocated() > 1_000_000)}))
"""


def _pools(order: str, **env: str) -> dict:
    environment = {k: v for k, v in os.environ.items() if k != POOL_ENV} | env
    completed = subprocess.run(
        [sys.executable, "-c", _SNIPPET, order], env=environment, capture_output=True, text=True, check=True
    )
    return json.loads(completed.stdout.splitlines()[-1])


def test_the_package_makes_the_system_allocator_hold_pandas_and_pyarrow_memory():
    assert _pools("package-first") == {"default": "system", "holding": ["system"]}


def test_pyarrow_imported_first_still_gives_pandas_the_system_allocator():
    pools = _pools("pyarrow-first")
    assert pools["default"] == "system"
    assert "system" in pools["holding"]


def test_the_operators_choice_of_pool_wins():
    assert _pools("package-first", **{POOL_ENV: "jemalloc"}) == {"default": "jemalloc", "holding": ["jemalloc"]}
