from collections.abc import Iterable
from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import capfirst

from apps.catalog.models import AIModel, Capability, Gateway, Modality, Provider


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
    model.capabilities.set(_tags(Capability, capabilities))
    model.modalities.set(_tags(Modality, modalities))
    return model, created


def _tags(tag_model, slugs: Iterable[str]) -> list:
    """Capability or Modality rows for these slugs, created with readable names as needed."""
    return [
        tag_model.objects.get_or_create(slug=slug, defaults={"name": tag_name(slug)})[0]
        for slug in slugs
    ]


def _free_slug(base: str) -> str:
    slug, n = base, 1
    while AIModel.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def model_listed_upsert(
    *,
    gateway: Gateway,
    gateway_model_id: str,
    slug: str,
    provider: Provider,
    facts: dict,
    initial: dict | None = None,
    modalities: Iterable[str] = (),
) -> tuple[AIModel, bool]:
    """Create or refresh the model a gateway lists under `gateway_model_id`. Idempotent.

    A new model gets `slug`, or `slug-2`, `slug-3`… when taken, and `initial` (e.g. its
    description). An existing one keeps its slug and provider; its facts are overwritten
    except those given as None, and a deprecated model listed again is active again (retired
    models stay retired). Modality tags are added, never removed.
    """
    model = AIModel.objects.filter(gateway=gateway, gateway_model_id=gateway_model_id).first()
    created = model is None
    if created:
        model = AIModel.objects.create(
            slug=_free_slug(slug),
            provider=provider,
            gateway=gateway,
            gateway_model_id=gateway_model_id,
            **(initial or {}),
            **facts,
        )
    else:
        for name, value in facts.items():
            if value is not None:
                setattr(model, name, value)
        if model.status == AIModel.Status.DEPRECATED:
            model.status = AIModel.Status.ACTIVE
        model.save()
    model.modalities.add(*_tags(Modality, modalities))
    return model, created


@transaction.atomic
def models_unlisted_deprecate(*, gateway: Gateway, listed: set[str]) -> list[str]:
    """Mark deprecated the active models of a gateway whose ids are not in `listed`; returns
    their slugs. Never deletes; retired models are left alone."""
    gone = list(
        AIModel.objects.filter(gateway=gateway, status=AIModel.Status.ACTIVE)
        .exclude(gateway_model_id__in=listed)
        .order_by("pk")
    )
    for model in gone:
        model.status = AIModel.Status.DEPRECATED
        model.save(update_fields=["status", "updated_at"])
    return [model.slug for model in gone]
