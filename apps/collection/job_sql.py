"""The statements every collection job runs, written out as SQL once per process (used by
services.job_claim and services.job_run).

They run once per job, and a worker's throughput is bounded by its CPU: through the ORM the
claim took three queries (the conditional UPDATE, the job with its run, model, gateway and
challenge, the pair's published response), finishing took two more, and compiling them cost
more CPU than the rest of the job's database work. The claim is one `UPDATE … RETURNING`
joined to the rows the call needs (two statements on SQLite), its column lists taken from the
models' own metadata, so a new field is loaded without touching this.
"""

from dataclasses import dataclass
from functools import cache

from django.db import connection as default_connection

from apps.catalog.models import AIModel, Gateway
from apps.challenges.models import Challenge
from apps.collection.models import OPEN_JOB_STATES, CollectionJob, CollectionRun
from apps.responses.models import Response
from rival.sqlrows import Columns, column, table


@dataclass(frozen=True)
class ClaimQuery:
    # Parameters: the new lease end, then the job id and `now` twice (`claim`), or the run id
    # and `now` (`claim_next`).
    update: str
    select: str  # parameters: the job id (none when `combined`)
    # PostgreSQL runs both as one statement (`WITH claimed AS (UPDATE … RETURNING *) SELECT`);
    # SQLite, the embedded default, has no data-modifying WITH: the UPDATE, then the SELECT.
    combined: bool
    parts: tuple[Columns, ...]

    def claim(self, job_id: int, now, lease_until, connection) -> CollectionJob | None:
        """Claim the job; None when no row changed (another delivery has it, or it is over)."""
        adapt = connection.ops.adapt_datetimefield_value
        return self._run([adapt(lease_until), job_id, adapt(now), adapt(now)], connection)

    def claim_next(self, run_id: int, now, lease_until, connection) -> CollectionJob | None:
        """Claim one of the run's pending jobs that is due; None when there is none."""
        adapt = connection.ops.adapt_datetimefield_value
        return self._run([adapt(lease_until), run_id, adapt(now)], connection)

    def _run(self, params: list, connection) -> CollectionJob | None:
        with connection.cursor() as cursor:
            cursor.execute(self.update, params)
            if not self.combined:
                # The UPDATE returns the claimed job's id (no row: nothing claimed).
                claimed = cursor.fetchone()
                if claimed is None:
                    return None
                cursor.execute(self.select, [claimed[0]])
            row = cursor.fetchone()
        return None if row is None else self._build(row)

    def _build(self, row) -> CollectionJob:
        """The claimed job from a result row, its related rows attached (no further queries)."""
        instances, offset = [], 0
        for part in self.parts:
            values = row[offset : offset + len(part)]
            # A left join that found no row (a model without a gateway): None.
            instances.append(None if all(v is None for v in values) else part.build(values))
            offset += len(part)
        job, run, ai_model, gateway, challenge = instances
        ai_model.gateway = gateway
        job.run, job.model, job.challenge = run, ai_model, challenge
        job.published_response_id = row[offset]
        return job


@cache
def claim_query(next_in_run: bool = False) -> ClaimQuery:
    """The claim of one job by id, or (`next_in_run`) of whichever pending job of a run is due:
    on PostgreSQL the first not locked by another claimer (SKIP LOCKED), so concurrent loops
    over one run each take a different job in one statement."""
    parts = (
        Columns.of(CollectionJob, "claimed"),
        Columns.of(CollectionRun, "run"),
        Columns.of(AIModel, "ai_model"),
        Columns.of(Gateway, "gateway"),
        Columns.of(Challenge, "challenge"),
    )
    columns = ", ".join(part.select for part in parts)
    jobs = table(CollectionJob)
    running, pending = CollectionJob.State.RUNNING.value, CollectionJob.State.PENDING.value
    combined = default_connection.vendor == "postgresql"
    if next_in_run:
        skip_locked = " FOR UPDATE SKIP LOCKED" if combined else ""
        where = f"""id = (
            SELECT id FROM {jobs} WHERE run_id = %s AND state = '{pending}'
                AND (not_before IS NULL OR not_before <= %s)
            ORDER BY id LIMIT 1{skip_locked}
        ) AND state = '{pending}'"""
    else:
        where = f"""id = %s AND (
            (state = '{pending}' AND (not_before IS NULL OR not_before <= %s))
            OR (state = '{running}' AND lease_until < %s)
        )"""
    update = f"""
        UPDATE {jobs} SET
            state = '{running}', attempts = attempts + 1, lease_until = %s, not_before = NULL
        WHERE {where}
    """
    source = "claimed" if combined else f"{jobs} claimed"
    select = f"""
        SELECT {columns}, (
            SELECT response.id FROM {table(Response)} response
            WHERE response.{column(Response, "model")} = claimed.model_id
                AND response.{column(Response, "challenge")} = claimed.challenge_id
                AND response.{column(Response, "is_published")}
            LIMIT 1
        )
        FROM {source}
        JOIN {table(CollectionRun)} run ON run.id = claimed.run_id
        JOIN {table(AIModel)} ai_model ON ai_model.id = claimed.model_id
        LEFT JOIN {table(Gateway)} gateway ON gateway.id = ai_model.gateway_id
        JOIN {table(Challenge)} challenge ON challenge.id = claimed.challenge_id
    """
    if combined:
        return ClaimQuery(f"WITH claimed AS ({update} RETURNING *) {select}", "", True, parts)
    return ClaimQuery(f"{update} RETURNING id", f"{select} WHERE claimed.id = %s", False, parts)


@cache
def job_done_sql() -> str:
    """Parameters: the response id, `now`, the job id. Only a running job becomes done."""
    jobs = table(CollectionJob)
    done, running = CollectionJob.State.DONE.value, CollectionJob.State.RUNNING.value
    return f"""
        UPDATE {jobs} SET state = '{done}', response_id = %s, last_error = '',
            finished_at = %s, lease_until = NULL
        WHERE id = %s AND state = '{running}'
    """


@cache
def run_finish_sql() -> str:
    """Parameters: `now`, the run id. A running run with no open job becomes finished."""
    runs, jobs = table(CollectionRun), table(CollectionJob)
    running, finished = CollectionRun.State.RUNNING.value, CollectionRun.State.FINISHED.value
    open_states = ", ".join(f"'{state}'" for state in OPEN_JOB_STATES)
    return f"""
        UPDATE {runs} SET state = '{finished}', finished_at = %s
        WHERE id = %s AND state = '{running}' AND NOT EXISTS (
            SELECT 1 FROM {jobs} job WHERE job.run_id = {runs}.id AND job.state IN ({open_states})
        )
    """
