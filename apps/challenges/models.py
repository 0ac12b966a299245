from django.conf import settings
from django.db import models
from django.db.models import Q

from rival.links import link


class OutputType(models.TextChoices):
    """What a challenge asks for, and so how a response is rendered."""

    TEXT = "text", "Text"
    CODE = "code", "Code"
    HTML = "html", "HTML page"
    SVG = "svg", "SVG"
    IMAGE = "image", "Image"
    AUDIO = "audio", "Audio"


class Category(models.Model):
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=80)
    description = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class ChallengeQuerySet(models.QuerySet):
    def published(self):
        return self.filter(is_published=True)

    def curated(self):
        """Challenges curators write: everything but live battles' prompts."""
        return self.filter(origin=Challenge.Origin.CURATED)


def default_temperature() -> float:
    return settings.RIVAL_DEFAULT_TEMPERATURE


def default_top_p() -> float:
    return settings.RIVAL_DEFAULT_TOP_P


def default_max_tokens() -> int:
    return settings.RIVAL_DEFAULT_MAX_TOKENS


class Challenge(models.Model):
    class Origin(models.TextChoices):
        CURATED = "curated", "Written by a curator"
        LIVE = "live", "A visitor's prompt in a live battle"

    class Difficulty(models.TextChoices):
        EASY = "easy", "Easy"
        MEDIUM = "medium", "Medium"
        HARD = "hard", "Hard"

    slug = models.SlugField(max_length=120, unique=True)
    title = models.CharField(max_length=200)
    prompt = models.TextField()
    description = models.TextField(blank=True)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, related_name="challenges"
    )
    output_type = models.CharField(max_length=10, choices=OutputType.choices, default="text")
    difficulty = models.CharField(max_length=10, choices=Difficulty.choices, blank=True)
    is_published = models.BooleanField(default=False, db_index=True)
    featured = models.BooleanField(default=False)
    # The blind pool (docs/arena.md): new responses stay in the arena until they have enough
    # counted votes or are old enough; empty fields take ARENA_BLIND_VOTES / ARENA_BLIND_DAYS.
    arena_only = models.BooleanField(
        default=False, help_text="Keep every response to this challenge out of public pages."
    )
    blind_votes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Counted votes that release a response (empty: default)."
    )
    blind_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Days after which a response is released (empty: default)."
    )
    # A live battle's prompt (docs/arena.md) is stored as a challenge so battles, votes and
    # ratings work unchanged; a constraint keeps it unpublished and arena-only for ever, so no
    # public page, export or ordinary battle ever shows it or its answers.
    origin = models.CharField(
        max_length=10, choices=Origin.choices, default=Origin.CURATED, editable=False
    )
    # Generation settings: what collection sends. Each response records what was actually sent.
    temperature = models.FloatField(default=default_temperature)
    top_p = models.FloatField(default=default_top_p)
    max_tokens = models.PositiveIntegerField(default=default_max_tokens)
    system_prompt = models.TextField(blank=True, help_text="Empty: user prompt only (default).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ChallengeQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(temperature__gte=0) & Q(temperature__lte=2),
                name="challenge_temperature_range",
            ),
            models.CheckConstraint(
                condition=Q(top_p__gt=0) & Q(top_p__lte=1), name="challenge_top_p_range"
            ),
            models.CheckConstraint(condition=Q(max_tokens__gt=0), name="challenge_max_tokens_pos"),
            models.CheckConstraint(
                condition=Q(origin="curated") | Q(is_published=False, arena_only=True),
                name="challenge_live_never_public",
            ),
        ]
        indexes = [models.Index(fields=["is_published", "-created_at"], name="challenge_pub_new")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return link("challenges:detail", self.slug)

    @property
    def release_votes(self) -> int:
        return settings.ARENA_BLIND_VOTES if self.blind_votes is None else self.blind_votes

    @property
    def release_days(self) -> int:
        return settings.ARENA_BLIND_DAYS if self.blind_days is None else self.blind_days

    def generation_settings(self) -> dict:
        return {
            "temperature": self.temperature,
            "top_p": self.top_p,
            "max_tokens": self.max_tokens,
            "system_prompt": self.system_prompt,
        }
