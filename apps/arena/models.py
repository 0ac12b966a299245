import re
import secrets

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from apps.catalog.models import AIModel, Provider
from apps.challenges.models import Category, Challenge
from apps.responses.models import Response

# The arena session of simulated votes (`loaddemo` seeds them so a fresh site has a
# leaderboard). Real voters' keys are 32 random characters, so none can take this form; it
# marks demo votes for the notice on the pages and for their removal.
DEMO_VOTER = "demo-votes"


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


class ExclusionRule(models.TextChoices):
    """Why a vote does not count; each one is shown in the public exclusions log."""

    MANUAL = "manual", "Excluded by a curator"
    TOO_FAST = "too_fast", "Faster than anyone can read both answers"
    IP_DAILY = "ip_daily", "Too many votes from one network in a day"
    ONE_SIDED = "one_sided", "A session that favours one model far beyond chance"


class Exclusion(models.Model):
    """A visitor whose votes stop counting: by arena session or by salted IP hash."""

    class Kind(models.TextChoices):
        SESSION = "session", "Session"
        IP = "ip", "IP hash"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    value = models.CharField(max_length=64, help_text="The session key or the IP hash.")
    rule = models.CharField(
        max_length=12, choices=ExclusionRule.choices, default=ExclusionRule.MANUAL
    )
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

    The models, category, challenge and responses are copied from the battle so tallies need
    no joins; database triggers keep `VoteTally` in step with every insert, update and delete.
    `is_counted` is False for excluded visitors; `exclusion` says why.
    `is_verified` marks a vote cast while signed in (the address was verified); it outlives
    the account, whose deletion only clears `user`.
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
    # Copies of the battle's (which cascades on its own): indexes would only slow inserts.
    challenge = models.ForeignKey(
        Challenge, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    response_a = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    response_b = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    session_key = models.CharField(max_length=64, db_index=True)
    ip_hash = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    is_counted = models.BooleanField(default=True)
    exclusion = models.ForeignKey(
        Exclusion, on_delete=models.SET_NULL, null=True, blank=True, related_name="votes"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="arena_votes",
    )
    is_verified = models.BooleanField("cast by a verified voter", default=False)
    # Why an uncounted vote is out, in public words (the exclusions log); empty when counted.
    excluded_rule = models.CharField(max_length=12, choices=ExclusionRule.choices, blank=True)
    excluded_reason = models.CharField(max_length=200, blank=True)
    # What the exclusion rules read, stored for audit: time from the battle being shown to the
    # vote, the arena session's age then, and how many votes the session had cast before.
    decision_ms = models.PositiveIntegerField(null=True, blank=True)
    session_age_s = models.PositiveIntegerField(null=True, blank=True)
    session_votes_before = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["model_a", "model_b"], name="vote_pair"),
            models.Index(fields=["ip_hash", "created_at"], name="vote_ip_day"),
            models.Index(
                fields=["excluded_rule", "-created_at"],
                condition=Q(is_counted=False),
                name="vote_excluded_log",
            ),
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


class VoteTally(models.Model):
    """Votes counted per pair of answers that met, kept by database triggers on `Vote`
    (migration 0006) in the same transaction as every insert, update and delete — queryset
    updates, cascades and COPY included — so a recompute reads these rows, not the votes.

    One row per (response A, response B, category as copied on the votes, verified,
    counted); the challenge and models follow from the responses. Plain integers, not
    foreign keys: the rows are derived data, and a row whose votes are gone stays at zero
    until `vote_tally_rebuild`. `category_id` 0 stands for votes without a category."""

    response_a_id = models.BigIntegerField()
    response_b_id = models.BigIntegerField()
    category_id = models.BigIntegerField()
    is_verified = models.BooleanField()
    is_counted = models.BooleanField()
    challenge_id = models.BigIntegerField()
    model_a_id = models.BigIntegerField()
    model_b_id = models.BigIntegerField()
    wins_a = models.IntegerField(default=0)
    wins_b = models.IntegerField(default=0)
    ties = models.IntegerField(default=0)
    both_bad = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=[
                    "response_a_id",
                    "response_b_id",
                    "category_id",
                    "is_verified",
                    "is_counted",
                ],
                name="vote_tally_key",
            )
        ]
        indexes = [
            # The recompute reads counted rows category by category, in this order.
            models.Index(
                fields=["category_id"], condition=Q(is_counted=True), name="vote_tally_category"
            )
        ]

    def __str__(self) -> str:
        return f"Tally of responses {self.response_a_id} vs {self.response_b_id}"


class ExclusionSettings(models.Model):
    """The automatic exclusion rules, edited by curators in the admin (one row, pk=1).

    Each rule can be switched off; none of them ever deletes a vote, they only stop it from
    counting and say why (docs/arena.md)."""

    too_fast_enabled = models.BooleanField("exclude too-fast votes", default=True)
    too_fast_base_ms = models.PositiveIntegerField(
        default=1500, help_text="Floor for any battle, in milliseconds."
    )
    too_fast_chars_per_second = models.PositiveIntegerField(
        default=150,
        help_text="Skimming speed: the floor grows by the answers' length read at this speed.",
    )
    ip_daily_enabled = models.BooleanField("cap votes per network per day", default=True)
    ip_daily_limit = models.PositiveIntegerField(
        default=300, help_text="Counted votes per IP group (an IPv4 address, an IPv6 /64) per day."
    )
    one_sided_enabled = models.BooleanField("exclude one-sided sessions", default=True)
    one_sided_min_battles = models.PositiveIntegerField(
        default=8, help_text="Decisive votes of a session on one model before it is tested."
    )
    one_sided_p_value = models.FloatField(
        default=0.001,
        help_text="Exclude a session when its votes for a model are this unlikely by chance.",
    )

    class Meta:
        verbose_name = "exclusion rules"
        verbose_name_plural = "exclusion rules"
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="exclusion_settings_one")]

    def __str__(self) -> str:
        return "Exclusion rules"

    @classmethod
    def current(cls) -> "ExclusionSettings":
        return cls.objects.get_or_create(pk=1)[0]


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
    """Ratings computed at one moment for one category (null: overall), from every counted
    vote or from verified voters' only."""

    class Voters(models.TextChoices):
        ALL = "all", "All voters"
        VERIFIED = "verified", "Verified voters"

    category = models.ForeignKey(
        Category, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    voters = models.CharField(max_length=10, choices=Voters.choices, default=Voters.ALL)
    computed_at = models.DateTimeField()
    votes_used = models.PositiveIntegerField()
    excluded_votes = models.PositiveIntegerField()
    rounds = models.PositiveIntegerField()
    seed = models.BigIntegerField()
    duration_ms = models.PositiveIntegerField(default=0)
    # Top models' observed score shares: {"models": [id, …], "rates": [[share or null, …], …]}.
    win_matrix = models.JSONField(default=dict, blank=True)
    # The style-controlled fit's coefficients, log-odds per standard deviation of each
    # feature: [{"feature": "length", "estimate": β, "lower": …, "upper": …}, …].
    style_coefficients = models.JSONField(default=list, blank=True)
    min_votes = models.PositiveIntegerField(
        default=0, help_text="Counted votes a model needed to be ranked when this was computed."
    )

    class Meta:
        ordering = ["-computed_at"]
        get_latest_by = "computed_at"
        indexes = [models.Index(fields=["category", "-computed_at"], name="snapshot_latest")]

    def __str__(self) -> str:
        return f"{self.category or 'Overall'} at {self.computed_at:%Y-%m-%d %H:%M}"


class LeaderboardRow(models.Model):
    """One model in one snapshot. Provisional models (fewer than the snapshot's `min_votes`)
    have a rating but no rank, tier or flip count."""

    snapshot = models.ForeignKey(LeaderboardSnapshot, on_delete=models.CASCADE, related_name="rows")
    model = models.ForeignKey(AIModel, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveIntegerField(null=True, blank=True)
    rating = models.FloatField()
    lower = models.FloatField()
    upper = models.FloatField()
    votes = models.PositiveIntegerField()
    win_rate = models.FloatField()
    is_provisional = models.BooleanField()
    tier = models.PositiveIntegerField(null=True, blank=True)
    style_rating = models.FloatField(null=True, blank=True)
    style_lower = models.FloatField(null=True, blank=True)
    style_upper = models.FloatField(null=True, blank=True)
    style_rank = models.PositiveIntegerField(null=True, blank=True)
    style_tier = models.PositiveIntegerField(null=True, blank=True)
    rival_score = models.FloatField(null=True, blank=True)
    consistency = models.FloatField(null=True, blank=True)
    # Votes whose removal would put the next ranked model above this one (None: last ranked
    # row, or not reachable by removing votes); `flip_exact` when checked by refitting.
    flip_votes = models.PositiveIntegerField(null=True, blank=True)
    flip_exact = models.BooleanField(default=False)

    class Meta:
        ordering = [F("rank").asc(nulls_last=True), "-rating"]
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "model"], name="one_row_per_model")
        ]

    def __str__(self) -> str:
        return f"#{self.rank} {self.model_id} {self.rating:.0f}"


class ResponseStyle(models.Model):
    """Style counts of one response's text, measured once (ratings.style_counts) for the
    style-controlled ratings. Owned by the arena so the responses app stays untouched."""

    response = models.OneToOneField(
        Response, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    words = models.PositiveIntegerField()
    headers = models.PositiveIntegerField()
    list_items = models.PositiveIntegerField()
    bold = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"Style of response {self.response_id}"


class LiveCategoryRule(models.Model):
    """A curator's rule giving a live battle its category: a visitor's prompt that contains
    one of `keywords` (whole words or phrases, any case) gets `category`. Rules are tried in
    `position` order and the first match wins; no match: the "general" category."""

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+")
    keywords = models.TextField(
        help_text="Words or phrases, one per line or separated by commas; matched as whole "
        "words, ignoring case."
    )
    position = models.PositiveSmallIntegerField(default=0, help_text="Lower is tried first.")

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = "live battle category rule"

    def __str__(self) -> str:
        return f"{self.category} ← {', '.join(self.keyword_list()[:3])}"

    def keyword_list(self) -> list[str]:
        parts = self.keywords.replace("\n", ",").split(",")
        return [" ".join(part.split()) for part in parts if part.strip()]

    def matches(self, prompt: str) -> bool:
        text = " ".join(prompt.split())
        return any(
            re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE)
            for word in self.keyword_list()
        )


class LiveBattle(models.Model):
    """A visitor's own prompt, answered live by two anonymous models (docs/arena.md).

    The answers stream through the Prompt Lab's machinery (`run`, a LabRun of kind "live":
    its results at positions 0 and 1 are sides A and B). When both are in, they become a
    never-public challenge and two never-released responses, and an ordinary `battle` that
    is voted on through the vote service. `token` is the page's only handle, unrelated to
    the run, the models or the battle.
    """

    class State(models.TextChoices):
        ANSWERING = "answering", "Answering"
        READY = "ready", "Ready to vote"
        VOID = "void", "Void"

    token = models.CharField(max_length=64, unique=True, default=new_battle_token)
    session_key = models.CharField(max_length=64, db_index=True)
    run = models.OneToOneField("lab.LabRun", on_delete=models.CASCADE, related_name="+")
    category = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.ANSWERING)
    # Why a void battle cannot be voted on, for staff; the visitor sees a generic sentence.
    void_reason = models.CharField(max_length=200, blank=True)
    battle = models.OneToOneField(
        Battle, on_delete=models.SET_NULL, null=True, blank=True, related_name="live"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(state__in=["answering", "ready", "void"]),
                name="livebattle_state_valid",
            )
        ]

    def __str__(self) -> str:
        return f"Live battle {self.token[:8]}… ({self.get_state_display()})"
