import secrets
from functools import cached_property

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.catalog.models import AIModel


class OutputHint(models.TextChoices):
    TEXT = "text", "Text"
    CODE = "code", "Code"
    HTML = "html", "HTML page"
    SVG = "svg", "SVG image"


WAITING_LONG_SECONDS = 30


def new_token() -> str:
    return secrets.token_urlsafe(16)


class LabRunQuerySet(models.QuerySet):
    def lab(self):
        """Runs made in the Prompt Lab; a live battle's run is the arena's, never listed or
        shown by the Lab (its models are secret until the vote)."""
        return self.filter(kind=LabRun.Kind.LAB)

    def owned_by(self, owner: str, user_id: int | None = None):
        """Runs made by one browser session or by one signed-in user; an empty owner and no
        user own nothing."""
        mine = Q(pk__in=[])
        if owner:
            mine |= Q(owner=owner)
        if user_id is not None:
            mine |= Q(user_id=user_id)
        return self.filter(mine)


class LabRun(models.Model):
    """A visitor's own prompt, sent once to each of a few models.

    Bound to the browser session that made it (`owner`, a random value kept in that session);
    the token in the URL is unguessable, and even a leaked URL shows nothing to another session.

    The arena's live battles run through the same machinery (`kind` "live": their owner is
    the arena voter, and only the arena shows them, as sides A and B).
    """

    class Kind(models.TextChoices):
        LAB = "lab", "Prompt Lab"
        LIVE = "live", "Live battle"

    token = models.CharField(max_length=64, unique=True, default=new_token, editable=False)
    owner = models.CharField(max_length=64, db_index=True, editable=False)
    # Set when a signed-in user made the run: it then follows them across browsers, shows on
    # their profile, and goes when they delete their account.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        editable=False,
        related_name="lab_runs",
    )
    ip_hash = models.CharField(max_length=64, blank=True, editable=False)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.LAB, editable=False)
    prompt = models.TextField()
    output_type = models.CharField(
        "output hint", max_length=10, choices=OutputHint.choices, default=OutputHint.TEXT
    )
    # Off: only its maker sees it. On: anyone holding the (unlisted, unguessable) link.
    is_shared = models.BooleanField("shared by link", default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = LabRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "lab run"

    def __str__(self) -> str:
        return f"Lab run {self.token[:8]}… ({self.created_at:%Y-%m-%d %H:%M})"


class LabResult(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Generating"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    run = models.ForeignKey(LabRun, on_delete=models.CASCADE, related_name="results")
    model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="lab_results")
    position = models.PositiveSmallIntegerField(default=0)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    content = models.TextField(blank=True)
    tokens_in = models.PositiveIntegerField(null=True, blank=True)
    tokens_out = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    ttft_ms = models.PositiveIntegerField("time to first token (ms)", null=True, blank=True)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    finish_reason = models.CharField(max_length=40, blank=True)
    settings = models.JSONField(
        default=dict, blank=True, help_text="Exactly what was sent to the gateway."
    )
    # The full provider error, for staff; visitors see only `public_error`.
    error = models.TextField("error message", blank=True)
    public_error = models.CharField(max_length=200, blank=True)
    # Set by the Stop button; the worker sees it at its next flush and closes the stream.
    stop_requested = models.BooleanField(default=False)
    # The spending reservation made when the run was queued (apps.gateways.spend), settled
    # with the real cost when the answer is in; empty for free models.
    spend = models.JSONField(default=dict, blank=True, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "position"]
        verbose_name = "lab result"
        constraints = [
            models.UniqueConstraint(fields=["run", "model"], name="labresult_one_per_model"),
            models.CheckConstraint(
                condition=Q(state__in=["pending", "running", "done", "failed"]),
                name="labresult_state_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model} — {self.get_state_display()}"

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)

    @property
    def is_waiting_long(self) -> bool:
        """Still queued well after the run started: the worker may be busy or not running."""
        from django.utils import timezone

        age = timezone.now() - self.run.created_at
        return self.state == self.State.PENDING and age.total_seconds() > WAITING_LONG_SECONDS

    @property
    def tokens_per_second(self) -> float | None:
        """Output speed once the first token was in: tokens out over the streaming time."""
        if not self.tokens_out or self.latency_ms is None or self.ttft_ms is None:
            return None
        streaming_ms = self.latency_ms - self.ttft_ms
        return round(self.tokens_out / streaming_ms * 1000, 1) if streaming_ms > 0 else None

    @property
    def is_framed(self) -> bool:
        return self.run.output_type in (OutputHint.HTML, OutputHint.SVG)

    @cached_property
    def safe_html(self) -> str:
        """The output as sanitised HTML; HTML and SVG as highlighted source only."""
        from apps.responses.rendering import render_output

        return render_output(self.content, self.run.output_type)
