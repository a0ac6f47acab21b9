"""pyarrow's memory pool in every process that imports this package: the system allocator.

pandas 3 keeps text columns in pyarrow arrays, so most of a large frame's memory, and every filter,
join and take over it, goes through pyarrow's default memory pool: mimalloc in the pyarrow wheels.
In a fresh process mimalloc's first large allocations cost far more in the kernel than glibc's
``malloc``. Measured on the statewide period's inputs, the reconcile rules' first call in a process
(a task calls them once) took 3.3-3.4 s, 1.6-1.7 s of it system time, with mimalloc; 1.95-2.25 s
(0.2-0.3 s) with the system allocator; jemalloc 2.07 s. Later calls in the same process: 1.9-2.4 s
against 1.7-1.8 s (docs/performance-history.md, session 22).

An operator's ``ARROW_DEFAULT_MEMORY_POOL`` wins. Set before pyarrow's first allocation (this
package's ``__init__`` runs before any of its modules imports pandas), the variable chooses the pool
of pyarrow's C++ code too (the CSV reader of ``warehouse.bulk_read``); when pyarrow was imported
before this package, pyarrow's Python-level default, which pandas' operations use, is set as well.
"""

from __future__ import annotations

import os
import sys

POOL_ENV = "ARROW_DEFAULT_MEMORY_POOL"
POOL = "system"


def use_system_allocator() -> None:
    """Make the system allocator pyarrow's default pool, unless ``ARROW_DEFAULT_MEMORY_POOL`` is set."""
    if os.environ.get(POOL_ENV):
        return
    os.environ[POOL_ENV] = POOL
    pyarrow = sys.modules.get("pyarrow")
    if pyarrow is not None:  # imported before this package: its C++ default may be chosen already
        pyarrow.set_memory_pool(pyarrow.system_memory_pool())
