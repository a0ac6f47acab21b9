"""A period's task instances are bounded by the configured batch count, never by the number of sites."""

from __future__ import annotations

import pytest

from ccms_attendance.canonical import Source
from ccms_attendance.paths import DAGS_DIR
from ccms_attendance.periods import load_pipeline_config
from ccms_attendance.pipeline.plan import assign_batches

DAG_ID = "ccms_attendance_period"


@pytest.fixture(scope="module")
def dag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=DAGS_DIR, bundle_path=DAGS_DIR).dags[DAG_ID]


def task_instances_for(dag, sites_per_vendor: int, batch_count: int) -> int:
    """Task instances of one run whose plan gave every vendor ``sites_per_vendor`` sites."""
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    mapped = [t for t in dag.tasks if isinstance(t, MappedOperator)]
    ids = [f"S-{n:06d}" for n in range(sites_per_vendor)]
    batches_per_vendor = len(set(assign_batches(ids, batch_count).values()))
    return len(dag.tasks) - len(mapped) + len(mapped) * batches_per_vendor


def test_only_the_vendor_extracts_are_mapped(dag):
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    mapped = {t.task_id for t in dag.tasks if isinstance(t, MappedOperator)}
    assert mapped == {f"{source.lower()}.extract_batch" for source in Source.ccms()}


def test_task_instances_do_not_grow_with_sites(dag):
    batch_count = int(load_pipeline_config()["extraction"]["site_batches_per_vendor"])
    ceiling = task_instances_for(dag, batch_count, batch_count)
    counts = {sites: task_instances_for(dag, sites, batch_count) for sites in (batch_count, 750, 3000, 30000)}
    assert set(counts.values()) == {ceiling}, counts
    assert task_instances_for(dag, 1, batch_count) < ceiling  # fewer sites than batches: fewer instances
    assert ceiling == len(dag.tasks) + 3 * (batch_count - 1)


@pytest.mark.parametrize("sites", [1, 7, 3000, 30001])
def test_every_batch_number_is_below_the_batch_count(sites):
    batches = assign_batches([f"S-{n}" for n in range(sites)], 4)
    assert len(batches) == sites
    assert set(batches.values()) <= set(range(4))
