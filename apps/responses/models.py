from django.db import models
from django.db.models import Q

from apps.catalog.models import AIModel
from apps.challenges.models import Challenge, OutputType
from apps.responses import rendering
from rival.links import link


class ResponseQuerySet(models.QuerySet):
    def published(self):
        return self.filter(is_published=True)

    def visible(self):
        """Published, released responses to published challenges that are not arena-only:
        what every public page, sitemap, comparison and export shows (docs/arena.md)."""
        return self.filter(
            is_published=True,
            public_from__isnull=False,
            challenge__is_published=True,
            challenge__arena_only=False,
        )

    def blind(self):
        """Published responses to published challenges that only the arena may show: not
        released yet, or their challenge is arena-only. The battle pool draws from these."""
        return self.filter(is_published=True, challenge__is_published=True).filter(
            Q(public_from__isnull=True) | Q(challenge__arena_only=True)
        )

    def with_related(self):
        return self.select_related("model", "model__provider", "challenge", "challenge__category")


class Response(models.Model):
    """One model's answer to one challenge, with what it cost and how it was produced.

    `prompt` and `settings` keep exactly what was sent, since a challenge may be edited later.
    """

    class Source(models.TextChoices):
        DEMO = "demo", "Demo gateway"
        GATEWAY = "gateway", "Provider API"
        IMPORT = "import", "Imported dataset"

    model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="responses")
    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="responses")
    prompt = models.TextField()
    settings = models.JSONField(default=dict, blank=True)
    output_type = models.CharField(max_length=10, choices=OutputType.choices)
    content = models.TextField(blank=True)
    image = models.ImageField(
        upload_to="responses/", blank=True, width_field="image_width", height_field="image_height"
    )
    image_width = models.PositiveIntegerField(null=True, blank=True)
    image_height = models.PositiveIntegerField(null=True, blank=True)
    # Stored files get random names: nothing in a URL reveals the image's digest or source.
    image_thumb = models.FileField(
        "image thumbnail (WebP)", upload_to="responses/thumb/", blank=True
    )
    audio = models.FileField("audio (WAV)", upload_to="responses/audio/", blank=True)
    audio_duration_ms = models.PositiveIntegerField(null=True, blank=True)
    waveform = models.FileField("waveform (PNG)", upload_to="responses/waveform/", blank=True)
    title = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True, help_text="A curator's note shown with the response.")
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.GATEWAY)
    collected_at = models.DateTimeField(db_index=True)
    tokens_in = models.PositiveIntegerField(null=True, blank=True)
    tokens_out = models.PositiveIntegerField(null=True, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    ttft_ms = models.PositiveIntegerField("time to first token (ms)", null=True, blank=True)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    finish_reason = models.CharField(max_length=40, blank=True)
    gateway_request_id = models.CharField(max_length=200, blank=True)
    is_published = models.BooleanField(default=True)
    # When the response left the blind pool (docs/arena.md); empty while only the arena may
    # show it. Every new response starts empty.
    public_from = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Safe HTML of `content`, computed on save (see rendering.rendered_html for bulk writes).
    rendered_html = models.TextField(blank=True, editable=False)
    rendered_hash = models.CharField(max_length=64, blank=True, editable=False)

    objects = ResponseQuerySet.as_manager()

    class Meta:
        ordering = ["-collected_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["model", "challenge"],
                condition=Q(is_published=True),
                name="one_published_response_per_pair",
            ),
            models.CheckConstraint(
                condition=Q(cost_usd__gte=0) | Q(cost_usd__isnull=True),
                name="response_cost_non_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["challenge", "is_published"], name="response_challenge_pub"),
            models.Index(fields=["model", "is_published"], name="response_model_pub"),
            models.Index(fields=["is_published", "-collected_at"], name="response_pub_new"),
        ]

    def __str__(self) -> str:
        return f"{self.model} → {self.challenge}"

    def save(self, *args, **kwargs):
        if self.render():
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "rendered_html", "rendered_hash"}
        super().save(*args, **kwargs)

    def get_absolute_url(self) -> str:
        return link("responses:detail", self.model.slug, self.challenge.slug)

    def render(self) -> bool:
        """Render the output again if its content or type changed since it was last rendered;
        returns whether it did."""
        key = rendering.content_hash(self.content, self.output_type)
        if key == self.rendered_hash:
            return False
        self.rendered_html = rendering.render_output(self.content, self.output_type)
        self.rendered_hash = key
        return True

    @property
    def safe_html(self) -> str:
        """The output as safe HTML (source only, for framed HTML/SVG outputs)."""
        return rendering.rendered_html(self)

    @property
    def is_framed(self) -> bool:
        return self.output_type in (OutputType.HTML, OutputType.SVG)
