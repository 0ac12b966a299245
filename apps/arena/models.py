import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from apps.catalog.models import AIModel, Provider
from apps.challenges.models import Category, Challenge
from apps.responses.models import Response


def new_battle_token() -> str:
    return secrets.token_urlsafe(24)


class BattleQuerySet(models.QuerySet):
    def for_voter(self, voter: str):
        return self.filter(session_key=voter)


class Battle(models.Model):
    """A blind pairing of two responses to one challenge, issued to one visitor.

    `session_key` holds the visitor's arena id (kept in their session, surviving login), and
    `token` is the only handle the page ever shows: random, unguessable, and unrelated to
    the responses or models behind it.
    """

    token = models.CharField(max_length=64, unique=True, default=new_battle_token)
    session_key = models.CharField(max_length=64, db_index=True)
    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="+")
    response_a = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="+")
    response_b = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()

    objects = BattleQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(response_a=F("response_b")), name="battle_two_different_responses"
            )
        ]

    def __str__(self) -> str:
        return f"Battle {self.pk} on {self.challenge_id}"


class Exclusion(models.Model):
    """A visitor whose votes stop counting: by arena session or by salted IP hash."""

    class Kind(models.TextChoices):
        SESSION = "session", "Session"
        IP = "ip", "IP hash"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.CharField(max_length=64, help_text="The session key or the IP hash.")
    reason = models.TextField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="one_exclusion_per_visitor")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value[:12]}…"


class Vote(models.Model):
    """One verdict on one battle; the battle's OneToOne makes a second vote impossible.

    The models and category are copied from the battle so the leaderboard aggregates votes
    without joins. `is_counted` is False for excluded visitors; `exclusion` says why.
    """

    class Outcome(models.TextChoices):
        A = "a", "A is better"
        B = "b", "B is better"
        TIE = "tie", "Tie"
        BOTH_BAD = "both_bad", "Both are bad"

    battle = models.OneToOneField(Battle, on_delete=models.CASCADE, related_name="vote")
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    model_a = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="+")
    model_b = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    session_key = models.CharField(max_length=64, db_index=True)
    ip_hash = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    is_counted = models.BooleanField(default=True)
    exclusion = models.ForeignKey(
        Exclusion, on_delete=models.SET_NULL, null=True, blank=True, related_name="votes"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["model_a", "model_b"], name="vote_pair"),
            # The leaderboard's GROUP BY reads this in order (an index-only scan) instead of
            # hashing every counted vote.
            models.Index(
                fields=["category", "model_a", "model_b", "outcome"],
                condition=Q(is_counted=True),
                name="vote_tally",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} (battle {self.battle_id})"


class IdentityTerm(models.Model):
    """A word that gives away who wrote a response ("Claude", "As an OpenAI model").

    A response containing a term of its own model or creator is kept out of battles.
    """

    term = models.CharField(max_length=80)
    model = models.ForeignKey(
        AIModel, on_delete=models.CASCADE, null=True, blank=True, related_name="identity_terms"
    )
    provider = models.ForeignKey(
        Provider, on_delete=models.CASCADE, null=True, blank=True, related_name="identity_terms"
    )

    class Meta:
        ordering = ["term"]
        constraints = [
            models.CheckConstraint(
                condition=Q(model__isnull=True, provider__isnull=False)
                | Q(model__isnull=False, provider__isnull=True),
                name="identity_term_model_xor_creator",
            ),
            models.CheckConstraint(condition=~Q(term=""), name="identity_term_not_empty"),
        ]

    def __str__(self) -> str:
        return self.term


class LeaderboardSnapshot(models.Model):
    """Ratings computed at one moment for one category (null: overall)."""

    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    computed_at = models.DateTimeField()
    votes_used = models.PositiveIntegerField()
    excluded_votes = models.PositiveIntegerField()
    rounds = models.PositiveIntegerField()
    seed = models.BigIntegerField()
    duration_ms = models.PositiveIntegerField(default=0)
    # Top models' observed score shares: {"models": [id, …], "rates": [[share or null, …], …]}.
    win_matrix = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-computed_at"]
        get_latest_by = "computed_at"
        indexes = [models.Index(fields=["category", "-computed_at"], name="snapshot_latest")]

    def __str__(self) -> str:
        return f"{self.category or 'Overall'} at {self.computed_at:%Y-%m-%d %H:%M}"


class LeaderboardRow(models.Model):
    snapshot = models.ForeignKey(LeaderboardSnapshot, on_delete=models.CASCADE, related_name="rows")
    model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveIntegerField()
    rating = models.FloatField()
    lower = models.FloatField()
    upper = models.FloatField()
    votes = models.PositiveIntegerField()
    win_rate = models.FloatField()
    is_provisional = models.BooleanField()

    class Meta:
        ordering = ["rank", "-rating"]
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "model"], name="one_row_per_model")
        ]

    def __str__(self) -> str:
        return f"#{self.rank} {self.model_id} {self.rating:.0f}"


class PairTally(models.Model):
    """Counted votes per (category, model A, model B), as the leaderboard aggregates them: a
    tie and a both-bad vote are both ties.

    On PostgreSQL, triggers on the vote table keep it equal to the counted votes in the same
    transaction as every insert, update (exclusions, category deletions) and delete (cascades),
    COPY included; a recompute reads these rows instead of every vote. See
    apps/arena/services/tally.py. Rows are not foreign keys, so deleting a model or category
    leaves zero rows behind rather than racing the triggers."""

    category = models.ForeignKey(
        Category,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        related_name="+",
    )
    model_a = models.ForeignKey(
        AIModel, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    model_b = models.ForeignKey(
        AIModel, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    wins_a = models.BigIntegerField(default=0)
    wins_b = models.BigIntegerField(default=0)
    ties = models.BigIntegerField(default=0)
    # Votes on the pair that do not count (excluded visitors), for the leaderboard's note.
    uncounted = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["category", "model_a", "model_b"],
                name="one_tally_per_pair",
                nulls_distinct=False,
            )
        ]

    def __str__(self) -> str:
        return f"{self.model_a_id} vs {self.model_b_id} ({self.category_id})"
