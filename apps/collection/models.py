from django.conf import settings
from django.db import models
from django.db.models import Count, Q, Sum
from django.urls import reverse

from apps.catalog.models import AIModel, Gateway
from apps.challenges.models import Challenge

OPEN_JOB_STATES = ["pending", "running"]


class CollectionRunQuerySet(models.QuerySet):
    def active(self):
        return self.filter(state=CollectionRun.State.RUNNING)

    def with_counts(self):
        """Annotate done/failed/pending/cancelled job counts in one query."""
        state = CollectionJob.State
        return self.annotate(
            n_total=Count("jobs"),
            n_done=Count("jobs", filter=Q(jobs__state=state.DONE)),
            n_failed=Count("jobs", filter=Q(jobs__state=state.FAILED)),
            n_cancelled=Count("jobs", filter=Q(jobs__state=state.CANCELLED)),
            n_pending=Count("jobs", filter=Q(jobs__state__in=OPEN_JOB_STATES)),
        )


class CollectionRun(models.Model):
    """One request to collect responses: what was asked, by whom, and how it went.

    Counts are read from the jobs (`with_counts()`), so concurrent workers never contend on
    this row; only state changes write it, each with a conditional UPDATE.
    """

    class Scope(models.TextChoices):
        CHALLENGE = "challenge", "One challenge × its models"
        MODEL = "model", "One model × the challenges"
        MISSING = "missing", "Every missing pair"

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    scope = models.CharField(max_length=12, choices=Scope.choices)
    challenges = models.ManyToManyField(Challenge, blank=True, related_name="collection_runs")
    ai_models = models.ManyToManyField(AIModel, blank=True, related_name="collection_runs")
    gateway = models.ForeignKey(
        Gateway,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        help_text="Only models reached through this gateway; empty for all.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    state = models.CharField(
        max_length=10, choices=State.choices, default=State.RUNNING, db_index=True
    )
    budget_usd = models.DecimalField(
        "budget cap (USD)", max_digits=10, decimal_places=4, null=True, blank=True
    )
    estimated_cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    skipped_over_budget = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, help_text="Why the whole run failed, if it did.")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = CollectionRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(budget_usd__gte=0) | Q(budget_usd__isnull=True),
                name="collectionrun_budget_non_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"Run {self.pk} ({self.get_scope_display()})"

    def get_absolute_url(self) -> str:
        return reverse("admin:collection_collectionrun_change", args=[self.pk])

    @property
    def is_active(self) -> bool:
        return self.state == self.State.RUNNING

    def actual_cost_usd(self):
        return self.jobs.aggregate(total=Sum("response__cost_usd"))["total"] or 0


class CollectionJob(models.Model):
    """One (model, challenge) call within a run.

    Workers claim a job with a conditional UPDATE and go on only if exactly one row changed, so
    a redelivered task is a no-op while another worker holds the lease.
    """

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    run = models.ForeignKey(CollectionRun, on_delete=models.CASCADE, related_name="jobs")
    model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="collection_jobs")
    challenge = models.ForeignKey(
        Challenge, on_delete=models.CASCADE, related_name="collection_jobs"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    estimated_cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    response = models.ForeignKey(
        "responses.Response",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="collection_jobs",
    )
    not_before = models.DateTimeField(
        null=True, blank=True, help_text="A retry waits until then (backoff, Retry-After)."
    )
    lease_until = models.DateTimeField(
        null=True, blank=True, help_text="After this, the job is taken as lost and re-enqueued."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "model", "challenge"], name="one_job_per_pair_per_run"
            ),
        ]
        indexes = [
            models.Index(fields=["run", "state"], name="collectionjob_run_state"),
            models.Index(fields=["state", "lease_until"], name="collectionjob_state_lease"),
            # A run's job loops claim its next pending job in id order (job_sql.claim_query):
            # only pending jobs are in it, so the claim stays one index probe however many
            # finished jobs the table holds.
            models.Index(
                fields=["run", "id"],
                condition=Q(state="pending"),
                name="collectionjob_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model_id} × {self.challenge_id} ({self.state})"
