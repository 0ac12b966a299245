"""The compare pages over the imported rival-early dataset (skipped when it is absent).

One test, because importing the dataset is the slow part.
"""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.compare import pairs, selectors
from tests.utils import rival_early_dir

RIVAL_EARLY = rival_early_dir()

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(RIVAL_EARLY is None, reason="the rival-early dataset is absent"),
]


def test_compare_pages_work_on_the_imported_rival_early_dataset(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    call_command("import_dataset", str(RIVAL_EARLY), "--skip-invalid", stdout=io.StringIO())
    listed = pairs.pair_counts()
    assert listed, "the dataset has models that answered the same challenges"

    # The pairs sharing the most and the fewest challenges: same query count for all.
    counts = set()
    for pair in listed[:25] + listed[-25:]:
        with CaptureQueriesContext(connection) as queries:
            page = client.get(pair.url)
        assert page.status_code == 200, pair.url
        assert f"{pair.shared} shared challenge" in page.content.decode(), pair.url
        counts.add(len(queries))
    assert len(counts) == 1, counts

    top = listed[0]
    models = selectors.pair_models(top.url.split("/")[2])
    text = next(e for e in selectors.overview(models).shared if e.output_type == "text")
    html = client.get(f"{top.url}{text.slug}/?diff=1").content.decode()
    assert "<del>" in html or "<ins>" in html

    assert client.get("/compare/?q=claude").status_code == 200
    assert "/sitemap-compare.xml" in client.get("/sitemap.xml").content.decode()
