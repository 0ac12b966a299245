import os
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from apps.developers import badges, datasets, examples, resources
from apps.developers.http import set_last_modified
from apps.developers.problems import problem
from rival.web.seo import meta


@require_safe
def api_not_found(request):
    return problem(request, 404, "No such endpoint. The schema is at /api/v1/openapi.json.")


@require_safe
def badge(request, slug: str):
    try:
        model = resources.get_model(slug)
    except resources.NotFound as error:
        raise Http404(str(error)) from error
    return HttpResponse(badges.badge_svg(model), content_type="image/svg+xml; charset=utf-8")


@require_safe
def hub(request):
    """The developer hub: what leaves the site and how, with examples that run."""
    base = settings.SITE_URL
    return render(
        request,
        "developers/hub.html",
        {
            "meta": meta(
                "Developer hub: API, feeds, badges, MCP",
                "Rival's data for developers: a JSON API with OpenAPI, RSS and Atom feeds, "
                "rating badges and an MCP server, with examples.",
                ("Home", "/"),
                ("Developers", ""),
            ),
            "base": base,
            "curl": examples.curl_examples(base),
            "python": examples.python_example(base),
            "mcp": examples.mcp_configs(base),
            "rate_limit": settings.API_RATE_LIMIT.split("/"),
        },
    )


CONTENT_TYPES = {
    "jsonl": "application/jsonl; charset=utf-8",
    "csv.gz": "application/gzip",
    "parquet": "application/vnd.apache.parquet",
}


@require_safe
def datasets_index(request):
    return render(
        request,
        "developers/datasets.html",
        {
            "meta": meta(
                "Open datasets",
                "Download Rival's published responses and arena votes as JSON Lines, CSV and "
                "Parquet, with sizes, row counts and SHA-256 digests.",
                ("Home", "/"),
                ("Developers", reverse("developers:hub")),
                ("Datasets", ""),
            ),
            "manifest": datasets.current(),
        },
    )


@require_safe
def dataset_file(request, name: str):
    """A file the manifest lists, and nothing else under the folder. The open handle keeps
    the file it opened even if a rebuild replaces it meanwhile."""
    manifest = datasets.current() or {"files": []}
    listed = {item["name"]: item for item in manifest["files"]}
    if name not in listed:
        raise Http404("No such dataset file.")
    try:
        handle = (Path(settings.DATASETS_DIR) / name).open("rb")
    except FileNotFoundError as error:
        raise Http404("No such dataset file.") from error
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=Path(name).name,
        content_type=CONTENT_TYPES.get(listed[name]["format"], "application/octet-stream"),
    )
    set_last_modified(response, datetime.fromtimestamp(os.fstat(handle.fileno()).st_mtime, UTC))
    return response
