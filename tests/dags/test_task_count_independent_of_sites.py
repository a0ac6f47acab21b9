"""A period's task instances are bounded by the configured batch count, never by the number of sites."""

from __future__ import annotations

import pytest

from ccms_attendance.airflow_tasks import site_batch_count
from ccms_attendance.canonical import Source
from ccms_attendance.paths import DAGS_DIR
from ccms_attendance.pipeline.plan import assign_batches

DAG_ID = "ccms_attendance_period"


@pytest.fixture(scope="module")
def dag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=DAGS_DIR, bundle_path=DAGS_DIR).dags[DAG_ID]


def test_only_the_vendor_extracts_are_mapped_over_the_configured_batch_numbers(dag):
    """Mapped over a literal list known at parse time: no task between the plan and the extracts."""
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    batch_count = site_batch_count()
    mapped = {t.task_id: t for t in dag.tasks if isinstance(t, MappedOperator)}
    assert set(mapped) == {f"{source.lower()}.extract_batch" for source in Source.ccms()}
    for extract in mapped.values():
        assert extract.op_kwargs_expand_input.value == {"batch_no": list(range(batch_count))}
        assert [t.task_id for t in extract.upstream_list] == ["plan_period"]
    assert list(dag.get_task("plan_period").op_args) == [batch_count]  # the plan spreads sites over the same numbers


@pytest.mark.parametrize("sites", [1, 7, 750, 3000, 30000])
def test_task_instances_do_not_grow_with_sites(sites):
    """A run has one extract instance per batch number, whatever the site count; the plan leaves a
    batch empty (its instance skipped) only when a vendor has fewer sites than batches."""
    batch_count = site_batch_count()
    used = set(assign_batches([f"S-{n:06d}" for n in range(sites)], batch_count).values())
    assert used <= set(range(batch_count))
    assert len(used) == min(sites, batch_count)


@pytest.mark.parametrize("sites", [1, 7, 3000, 30001])
def test_every_batch_number_is_below_the_batch_count(sites):
    batches = assign_batches([f"S-{n}" for n in range(sites)], 4)
    assert len(batches) == sites
    assert set(batches.values()) <= set(range(4))
