"""Per-page metadata: title, description, canonical path and breadcrumbs.

Views pass `meta(...)` into the context; base.html turns it into <title>, the description,
canonical, Open Graph/Twitter tags, the visible breadcrumb and a JSON-LD BreadcrumbList.
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.utils.text import Truncator

SITE_NAME = "Rival"


@dataclass(frozen=True)
class Crumb:
    name: str
    url: str = ""


@dataclass(frozen=True)
class PageMeta:
    title: str
    description: str
    breadcrumbs: tuple[Crumb, ...] = field(default_factory=tuple)
    og_type: str = "website"
    noindex: bool = False

    @property
    def full_title(self) -> str:
        return self.title if self.title.endswith(SITE_NAME) else f"{self.title} · {SITE_NAME}"

    def breadcrumb_list(self) -> dict | None:
        if not self.breadcrumbs:
            return None
        return {
            "@context": "https://schema.org",
            "@type": "BreadcrumbList",
            "itemListElement": [
                {
                    "@type": "ListItem",
                    "position": position,
                    "name": crumb.name,
                    **({"item": settings.SITE_URL + crumb.url} if crumb.url else {}),
                }
                for position, crumb in enumerate(self.breadcrumbs, start=1)
            ],
        }


def meta(title: str, description: str, *crumbs: tuple[str, str], **kwargs) -> PageMeta:
    """PageMeta from plain values; crumbs are (name, url) with url "" for the current page."""
    return PageMeta(
        title=title,
        description=Truncator(" ".join(description.split())).chars(160),
        breadcrumbs=tuple(Crumb(name, url) for name, url in crumbs),
        **kwargs,
    )
