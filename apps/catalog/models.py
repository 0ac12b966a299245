import os
import re

from django.core.validators import RegexValidator
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


# Which environment variables a gateway may read. A gateway sends its key to its base URL,
# so a free name would let whoever edits gateways send any server secret (SECRET_KEY,
# DATABASE_URL, REDIS_URL, ARENA_IP_SALT…) to any host: only provider-key and base-URL names
# are allowed, and no setting of the site itself matches them.
API_KEY_ENV_PATTERN = r"^[A-Z][A-Z0-9_]*_API_KEY$"
BASE_URL_ENV_PATTERN = r"^[A-Z][A-Z0-9_]*_BASE_URL$"


class Gateway(models.Model):
    """An API endpoint that models are reached through.

    Only the *name* of the environment variable holding the key is stored; the key itself
    never enters the database. Both variable names must match the patterns above, checked by
    the field validators (forms, full_clean) and by the database.
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
        validators=[
            RegexValidator(
                BASE_URL_ENV_PATTERN,
                "Enter the name of an environment variable ending in _BASE_URL, e.g. "
                "OPENROUTER_BASE_URL.",
            )
        ],
        help_text="Optional env var whose value overrides the base URL (e.g. OPENROUTER_BASE_URL).",
    )
    api_key_env = models.CharField(
        max_length=80,
        blank=True,
        validators=[
            RegexValidator(
                API_KEY_ENV_PATTERN,
                "Enter the name of an environment variable ending in _API_KEY (capital "
                "letters, digits and _), e.g. OPENROUTER_API_KEY — not the key itself.",
            )
        ],
        help_text="Name of the environment variable that holds the API key (…_API_KEY). "
        "Never the key.",
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
            models.CheckConstraint(
                condition=Q(api_key_env="") | Q(api_key_env__regex=API_KEY_ENV_PATTERN),
                name="gateway_api_key_env_allowed",
            ),
            models.CheckConstraint(
                condition=Q(base_url_env="") | Q(base_url_env__regex=BASE_URL_ENV_PATTERN),
                name="gateway_base_url_env_allowed",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def key_is_set(self) -> bool:
        """Whether the environment holds this gateway's key; False for a name that is not an
        allowed key name, so the answer never reveals anything about other variables."""
        if not re.fullmatch(API_KEY_ENV_PATTERN, self.api_key_env):
            return False
        return bool(os.environ.get(self.api_key_env, "").strip())


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
    lab_enabled = models.BooleanField(
        "offered in the Prompt Lab",
        default=False,
        help_text="Visitors may run their own prompts on this model (and spend on it).",
    )
    live_battle_enabled = models.BooleanField(
        "offered in live battles",
        default=False,
        help_text="The arena may ask this model, anonymously, to answer a visitor's own prompt "
        "(and spend on it).",
    )
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
