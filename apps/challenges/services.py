from django.db import transaction
from django.db.models import QuerySet
from django.utils.text import Truncator, slugify

from apps.challenges.models import Category, Challenge
from rival.cacheversion import content_version_bump


@transaction.atomic
def challenges_set_published(*, challenges: QuerySet[Challenge], published: bool) -> int:
    """Publish or unpublish challenges; returns how many changed state. Live battles'
    prompts are never published."""
    changed = challenges.curated().exclude(is_published=published).update(is_published=published)
    content_version_bump()  # update() sends no signals
    return changed


@transaction.atomic
def category_ensure(*, slug: str, name: str, position: int | None = None) -> Category:
    """The category with this slug, created when missing. Existing names are kept."""
    defaults = {"name": name} if position is None else {"name": name, "position": position}
    return Category.objects.get_or_create(slug=slug, defaults=defaults)[0]


@transaction.atomic
def challenge_upsert(
    *, slug: str, fields: dict, initial: dict | None = None, update: bool = True
) -> tuple[Challenge, bool]:
    """Create a challenge by slug, or update it with `fields` when `update` is true.

    `initial` (e.g. is_published) applies only on creation, so re-running an import or the
    demo loader never re-publishes what a curator unpublished.
    """
    if not update:
        return Challenge.objects.get_or_create(slug=slug, defaults={**(initial or {}), **fields})
    return Challenge.objects.update_or_create(
        slug=slug, defaults=fields, create_defaults={**(initial or {}), **fields}
    )


@transaction.atomic
def challenge_draft_create(*, prompt: str, output_type: str, title: str = "") -> Challenge:
    """An unpublished challenge made from a prompt (a Prompt Lab run, say), for a curator to
    edit and publish; its slug is made unique."""
    title = title or Truncator(" ".join(prompt.split())).chars(80)
    base = slugify(title)[:100] or "challenge"
    slug, n = base, 1
    while Challenge.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return Challenge.objects.create(
        slug=slug, title=title, prompt=prompt, output_type=output_type, is_published=False
    )


@transaction.atomic
def challenge_live_create(*, slug: str, prompt: str, category: Category | None) -> Challenge:
    """A live battle's prompt as a challenge (docs/arena.md): unpublished and arena-only for
    ever (a constraint holds it), so no public page, export or ordinary battle shows it."""
    return Challenge.objects.create(
        slug=slug,
        title="Your prompt",
        prompt=prompt,
        category=category,
        output_type="text",
        origin=Challenge.Origin.LIVE,
        is_published=False,
        arena_only=True,
    )
