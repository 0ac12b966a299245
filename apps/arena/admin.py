from django.contrib import admin, messages
from django.shortcuts import redirect

from apps.arena.models import (
    Battle,
    Exclusion,
    ExclusionSettings,
    IdentityTerm,
    LeaderboardRow,
    LeaderboardSnapshot,
    LiveBattle,
    LiveCategoryRule,
    Vote,
)
from apps.arena.services import demo_votes, votes


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "outcome",
        "model_a",
        "model_b",
        "category",
        "short_session",
        "short_ip",
        "is_counted",
        "excluded_rule",
        "decision_ms",
    ]
    list_filter = ["outcome", "is_counted", "excluded_rule", "category"]
    search_fields = ["session_key", "ip_hash"]
    list_select_related = ["model_a", "model_b", "category", "exclusion"]
    date_hierarchy = "created_at"
    actions = ["exclude_sessions", "exclude_ip_hashes", "remove_demo_votes"]
    readonly_fields = [f.name for f in Vote._meta.fields]

    def has_add_permission(self, request):
        return False

    @admin.display(description="session")
    def short_session(self, vote):
        return vote.session_key[:10]

    @admin.display(description="IP hash")
    def short_ip(self, vote):
        return vote.ip_hash[:10]

    def _exclude(self, request, queryset, kind, field):
        total = 0
        for value in set(queryset.values_list(field, flat=True)):
            _, changed = votes.exclusion_create(
                kind=kind,
                value=value,
                reason=f"Excluded from the vote list by {request.user}",
                user=request.user,
            )
            total += changed
        self.message_user(request, f"{total} votes no longer count.", messages.SUCCESS)

    def has_exclude_permission(self, request):
        """Excluding votes creates Exclusion rows: only curators who may add them."""
        return request.user.has_perm("arena.add_exclusion")

    @admin.action(description="Exclude these votes' sessions", permissions=["exclude"])
    def exclude_sessions(self, request, queryset):
        self._exclude(request, queryset, "session", "session_key")

    @admin.action(description="Exclude these votes' IP hashes", permissions=["exclude"])
    def exclude_ip_hashes(self, request, queryset):
        self._exclude(request, queryset, "ip", "ip_hash")

    @admin.action(description="Remove every simulated demo vote (whatever is selected)")
    def remove_demo_votes(self, request, queryset):
        removed = demo_votes.demo_votes_remove()
        self.message_user(
            request,
            f"{removed} simulated demo votes removed; the leaderboard is being recomputed.",
            messages.SUCCESS,
        )


@admin.register(ExclusionSettings)
class ExclusionSettingsAdmin(admin.ModelAdmin):
    """One row of rule settings; each rule's effect shows in the public exclusions log."""

    fieldsets = [
        (
            "Too fast",
            {"fields": ["too_fast_enabled", "too_fast_base_ms", "too_fast_chars_per_second"]},
        ),
        ("Per network", {"fields": ["ip_daily_enabled", "ip_daily_limit"]}),
        (
            "One-sided sessions",
            {"fields": ["one_sided_enabled", "one_sided_min_battles", "one_sided_p_value"]},
        ),
    ]

    def has_add_permission(self, request):
        return not ExclusionSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        settings_row = ExclusionSettings.current()
        return redirect("admin:arena_exclusionsettings_change", settings_row.pk)


@admin.register(Exclusion)
class ExclusionAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "value", "rule", "reason", "created_by", "vote_count"]
    list_filter = ["kind", "rule"]
    search_fields = ["value", "reason"]
    fields = ["kind", "value", "rule", "reason", "created_by", "created_at"]
    readonly_fields = ["rule", "created_by", "created_at"]

    @admin.display(description="votes excluded")
    def vote_count(self, exclusion):
        return exclusion.votes.count()

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        exclusion, changed = votes.exclusion_create(
            kind=obj.kind, value=obj.value, reason=obj.reason, user=request.user
        )
        obj.pk = exclusion.pk
        self.message_user(request, f"{changed} votes no longer count.", messages.SUCCESS)


@admin.register(IdentityTerm)
class IdentityTermAdmin(admin.ModelAdmin):
    list_display = ["term", "model", "provider"]
    list_filter = ["provider"]
    search_fields = ["term"]
    autocomplete_fields = []
    list_select_related = ["model", "provider"]


@admin.register(Battle)
class BattleAdmin(admin.ModelAdmin):
    list_display = ["pk", "challenge", "created_at", "expires_at"]
    list_select_related = ["challenge"]
    readonly_fields = ["token", "session_key", "challenge", "response_a", "response_b"]


class LeaderboardRowInline(admin.TabularInline):
    model = LeaderboardRow
    extra = 0
    can_delete = False
    readonly_fields = [
        "rank",
        "tier",
        "model",
        "rating",
        "lower",
        "upper",
        "style_rating",
        "rival_score",
        "votes",
        "win_rate",
        "flip_votes",
    ]
    fields = readonly_fields


@admin.register(LeaderboardSnapshot)
class LeaderboardSnapshotAdmin(admin.ModelAdmin):
    list_display = ["computed_at", "category", "votes_used", "excluded_votes", "duration_ms"]
    list_filter = ["category"]
    inlines = [LeaderboardRowInline]
    exclude = ["win_matrix"]


@admin.register(LiveCategoryRule)
class LiveCategoryRuleAdmin(admin.ModelAdmin):
    """Which category a live battle's prompt gets: first matching rule by position, else
    "general" (docs/arena.md)."""

    list_display = ["position", "category", "keywords"]
    list_display_links = ["category"]
    list_editable = ["position"]
    list_select_related = ["category"]


@admin.register(LiveBattle)
class LiveBattleAdmin(admin.ModelAdmin):
    """Read-only: started by visitors, settled when both answers are in."""

    list_display = ["created_at", "state", "category", "void_reason", "battle"]
    list_filter = ["state", "category"]
    list_select_related = ["category", "battle"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in LiveBattle._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
