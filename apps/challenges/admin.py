from django.contrib import admin, messages
from django.db.models import Count, Q

from apps.challenges.models import Category, Challenge
from apps.challenges.services import challenges_set_published


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "position"]
    list_editable = ["position"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Challenge)
class ChallengeAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "category",
        "output_type",
        "difficulty",
        "is_published",
        "featured",
        "responses",
    ]
    list_filter = [
        "category",
        "output_type",
        "is_published",
        "featured",
        "arena_only",
        "difficulty",
    ]
    search_fields = ["title", "slug", "prompt"]
    prepopulated_fields = {"slug": ["title"]}
    list_select_related = ["category"]
    actions = ["publish", "unpublish"]
    fieldsets = [
        (None, {"fields": ["title", "slug", "category", "output_type", "difficulty"]}),
        ("Prompt", {"fields": ["prompt", "description"]}),
        ("Publishing", {"fields": ["is_published", "featured"]}),
        ("Blind pool", {"fields": ["arena_only", "blind_votes", "blind_days"]}),
        (
            "Generation settings",
            {"fields": ["temperature", "top_p", "max_tokens", "system_prompt"]},
        ),
    ]

    def get_queryset(self, request):
        # Live battles' prompts are visitors' words, not challenges to edit or publish.
        return (
            super()
            .get_queryset(request)
            .curated()
            .annotate(_responses=Count("responses", filter=Q(responses__is_published=True)))
        )

    @admin.display(description="responses", ordering="_responses")
    def responses(self, obj):
        return obj._responses

    @admin.action(description="Publish selected challenges", permissions=["change"])
    def publish(self, request, queryset):
        count = challenges_set_published(challenges=queryset, published=True)
        self.message_user(request, f"Published {count} challenge(s).", messages.SUCCESS)

    @admin.action(description="Unpublish selected challenges", permissions=["change"])
    def unpublish(self, request, queryset):
        count = challenges_set_published(challenges=queryset, published=False)
        self.message_user(request, f"Unpublished {count} challenge(s).", messages.SUCCESS)
