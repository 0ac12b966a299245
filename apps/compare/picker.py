"""The model picker's state, carried entirely in the query string so it works without JS.

`m` repeats once per picked model; `add` and `drop` come from the submit buttons beside each
search result and each picked model; `q` is the search text; `go` asks for the comparison.
"""

from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.urls import reverse

from apps.catalog.models import AIModel
from apps.compare.selectors import MAX_MODELS, MIN_MODELS, compare_url, models_by_slug


@dataclass
class Picker:
    query: str = ""
    models: list[AIModel] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wants_comparison: bool = False

    @property
    def slugs(self) -> list[str]:
        return [m.slug for m in self.models]

    @property
    def full(self) -> bool:
        return len(self.models) >= MAX_MODELS

    @property
    def ready(self) -> bool:
        return self.wants_comparison and not self.errors and len(self.models) >= MIN_MODELS

    @property
    def comparison_url(self) -> str:
        return compare_url(self.slugs)

    @property
    def url(self) -> str:
        """The picker page in this state, to bookmark or come back to."""
        params = [("m", slug) for slug in self.slugs] + ([("q", self.query)] if self.query else [])
        return reverse("compare:index") + ("?" + urlencode(params) if params else "")


def read_picker(params) -> Picker:
    """The picker after applying this request's add/drop; unknown slugs are reported."""
    picked: list[str] = []
    for slug in params.getlist("m"):
        if slug and slug not in picked:
            picked.append(slug)
    errors = []
    # Not "remove": a control of that name would shadow HTMLFormElement.remove() in browsers.
    dropped = params.get("drop")
    if dropped in picked:
        picked.remove(dropped)
    added = params.get("add")
    if added and added not in picked:
        if len(picked) >= MAX_MODELS:
            errors.append(f"A comparison shows at most {MAX_MODELS} models. Remove one first.")
        else:
            picked.append(added)
    models = _known(picked, errors)
    picker = Picker(
        # After an add the search has done its job; clearing it brings the picked list up.
        query="" if added else params.get("q", "").strip()[:100],
        models=models,
        errors=errors,
        wants_comparison="go" in params,
    )
    if picker.wants_comparison and len(models) < MIN_MODELS:
        picker.errors.append("Pick at least two models to compare.")
    return picker


def _known(slugs: list[str], errors: list[str]) -> list[AIModel]:
    if not slugs:
        return []
    found = models_by_slug(slugs)
    if unknown := [slug for slug in slugs if slug not in found]:
        errors.append("No model is called " + ", ".join(f"“{slug}”" for slug in unknown) + ".")
    return [found[slug] for slug in slugs if slug in found]
