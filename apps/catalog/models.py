from django.db import models
from django.db.models import Q

from rival.links import link


class Provider(models.Model):
    """An AI creator: the lab that makes models (Anthropic, Qwen, …)."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    website = models.URLField(blank=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return link("catalog:creator", self.slug)


class Capability(models.Model):
    """What a model can do: conversation, reasoning, code generation, tool use…"""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=80)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "capabilities"

    def __str__(self) -> str:
        return self.name


class Modality(models.Model):
    """A model category in the modality sense: text, code, vision, multimodal, image, audio."""

    slug = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=60)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "modalities"

    def __str__(self) -> str:
        return self.name


class Gateway(models.Model):
    """An API endpoint that models are reached through.

    Only the *name* of the environment variable holding the key is stored; the key itself
    never enters the database.
    """

    class Kind(models.TextChoices):
        OPENAI = "openai", "OpenAI-compatible chat completions"
        ANTHROPIC = "anthropic", "Anthropic Messages"
        DEMO = "demo", "Offline demo"

    name = models.SlugField(max_length=60, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    base_url = models.URLField(blank=True, help_text="Empty for the demo gateway.")
    base_url_env = models.CharField(
        max_length=80,
        blank=True,
        help_text="Optional env var whose value overrides the base URL (e.g. OPENROUTER_BASE_URL).",
    )
    api_key_env = models.CharField(
        max_length=80,
        blank=True,
        help_text="Name of the environment variable that holds the API key. Never the key.",
    )
    max_concurrency = models.PositiveIntegerField(default=8)
    requests_per_second = models.FloatField(default=5.0)
    is_enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(requests_per_second__gt=0), name="gateway_rate_positive"
            ),
            models.CheckConstraint(
                condition=Q(max_concurrency__gt=0), name="gateway_conc_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AIModelQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=AIModel.Status.ACTIVE)

    def listed(self):
        """Models shown in the catalog: everything but the graveyard."""
        return self.exclude(status=AIModel.Status.RETIRED)

    def retired(self):
        return self.filter(status=AIModel.Status.RETIRED)

    def with_provider(self):
        return self.select_related("provider")


class AIModel(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        DEPRECATED = "deprecated", "Deprecated"
        RETIRED = "retired", "Retired"

    class Size(models.TextChoices):
        SMALL = "small", "Small"
        MEDIUM = "medium", "Medium"
        LARGE = "large", "Large"
        XLARGE = "xlarge", "Extra large"

    slug = models.SlugField(max_length=120, unique=True)
    name = models.CharField(max_length=160, help_text="In the 'Creator: Model' form.")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="models")
    description = models.TextField(blank=True)
    release_date = models.DateField(null=True, blank=True)
    size_class = models.CharField(max_length=10, choices=Size.choices, blank=True)
    parameters_total = models.PositiveBigIntegerField(null=True, blank=True)
    parameters_active = models.PositiveBigIntegerField(null=True, blank=True)
    parameters_note = models.CharField(
        max_length=120, blank=True, help_text="Free text when exact counts are not published."
    )
    context_length = models.PositiveIntegerField(null=True, blank=True)
    price_input_per_mtok = models.DecimalField(
        "input price (USD / 1M tokens)", max_digits=10, decimal_places=4, null=True, blank=True
    )
    price_output_per_mtok = models.DecimalField(
        "output price (USD / 1M tokens)", max_digits=10, decimal_places=4, null=True, blank=True
    )
    capabilities = models.ManyToManyField(Capability, blank=True, related_name="models")
    modalities = models.ManyToManyField(Modality, blank=True, related_name="models")
    url = models.URLField(blank=True)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.ACTIVE, db_index=True
    )
    retired_on = models.DateField(null=True, blank=True)
    retirement_reason = models.TextField(blank=True)
    gateway = models.ForeignKey(
        Gateway, on_delete=models.SET_NULL, null=True, blank=True, related_name="models"
    )
    gateway_model_id = models.CharField(
        max_length=200, blank=True, help_text="The model id the gateway expects, e.g. qwen/qwen3."
    )
    featured = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = AIModelQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = "AI model"
        constraints = [
            models.CheckConstraint(
                condition=Q(price_input_per_mtok__gte=0) | Q(price_input_per_mtok__isnull=True),
                name="aimodel_input_price_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(price_output_per_mtok__gte=0) | Q(price_output_per_mtok__isnull=True),
                name="aimodel_output_price_non_negative",
            ),
            models.CheckConstraint(
                condition=~Q(status="retired") | Q(retired_on__isnull=False),
                name="aimodel_retired_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "name"], name="aimodel_status_name"),
            models.Index(fields=["-release_date"], name="aimodel_release"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return link("catalog:model", self.slug)

    @property
    def short_name(self) -> str:
        """The name without its 'Creator: ' prefix."""
        return self.name.split(": ", 1)[1] if ": " in self.name else self.name
