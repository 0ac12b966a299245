from collections.abc import Iterable
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import capfirst

from apps.catalog.models import AIModel, Capability, Modality, Provider


@transaction.atomic
def model_retire(*, model: AIModel, retired_on: date, reason: str) -> AIModel:
    """Move a model to the graveyard with the date and reason shown there.

    Retiring an already retired model updates its date and reason. Raises ValidationError
    when the reason is blank: the graveyard always says why.
    """
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the model was retired."})
    model.status = AIModel.Status.RETIRED
    model.retired_on = retired_on
    model.retirement_reason = reason
    model.save(update_fields=["status", "retired_on", "retirement_reason", "updated_at"])
    return model


def tag_name(slug: str) -> str:
    """A readable name for a tag slug: 'code-generation' → 'Code Generation'."""
    return " ".join(capfirst(part) for part in slug.replace("_", "-").split("-"))


@transaction.atomic
def provider_ensure(
    *, slug: str, name: str, website: str = "", description: str = "", update: bool = False
) -> Provider:
    """The provider with this slug, created when missing; its facts overwritten if `update`."""
    fields = {"name": name, "website": website, "description": description}
    if update:
        return Provider.objects.update_or_create(slug=slug, defaults=fields)[0]
    return Provider.objects.get_or_create(slug=slug, defaults=fields)[0]


@transaction.atomic
def model_upsert(
    *,
    slug: str,
    provider: Provider,
    facts: dict,
    capabilities: Iterable[str] = (),
    modalities: Iterable[str] = (),
    initial: dict | None = None,
) -> tuple[AIModel, bool]:
    """Create or update a model by slug. Idempotent.

    `facts` (name, dates, sizes, prices, …) are written every time; `initial` (curation state
    such as status or featured) only when the model is created, so a curator's decisions
    survive a re-run. Capability and modality tags are created from their slugs as needed.
    """
    model, created = AIModel.objects.update_or_create(
        slug=slug,
        defaults={**facts, "provider": provider},
        create_defaults={**(initial or {}), **facts, "provider": provider},
    )
    model.capabilities.set(
        [
            Capability.objects.get_or_create(slug=s, defaults={"name": tag_name(s)})[0]
            for s in capabilities
        ]
    )
    model.modalities.set(
        [
            Modality.objects.get_or_create(slug=s, defaults={"name": tag_name(s)})[0]
            for s in modalities
        ]
    )
    return model, created
