import pytest
from django.core.files.base import ContentFile

from apps.responses import rendering
from apps.responses.models import Response
from tests.factories import ChallengeFactory, ResponseFactory
from tests.responses import xss

pytestmark = pytest.mark.django_db


def test_the_corpus_holds_at_least_forty_payloads_across_output_types():
    kinds = {output_type for output_type, _ in xss.corpus()}
    assert len(xss.corpus()) + len(xss.IMAGE_NAMES) >= 40
    assert {"text", "html", "svg", "image"} <= kinds


@pytest.mark.parametrize("payload", xss.MARKDOWN_PAYLOADS)
def test_markdown_payload_renders_without_executable_vectors(payload):
    html = rendering.render_markdown(payload)
    assert xss.executable_vectors(html) == []
    assert "<script" not in html.lower()


@pytest.mark.parametrize(("output_type", "payload"), xss.corpus())
def test_response_page_holding_a_payload_has_no_executable_vector(client, output_type, payload):
    response = ResponseFactory(challenge=ChallengeFactory(output_type=output_type), content=payload)
    page = client.get(response.get_absolute_url())
    assert page.status_code == 200
    assert xss.executable_vectors(page.content.decode()) == []


@pytest.mark.parametrize("name", xss.IMAGE_NAMES)
def test_image_response_with_a_hostile_file_name_has_no_executable_vector(
    client, name, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    response = ResponseFactory(challenge=ChallengeFactory(output_type="image"), content="")
    Response.objects.filter(pk=response.pk).update(image=name, image_width=10, image_height=10)
    page = client.get(response.get_absolute_url())
    html = page.content.decode()
    assert xss.executable_vectors(html) == []
    assert 'width="10" height="10"' in html


def test_links_in_markdown_get_nofollow_noopener_noreferrer():
    html = rendering.render_markdown("[site](https://example.com/page)")
    assert 'href="https://example.com/page"' in html
    assert 'rel="nofollow noopener noreferrer"' in html


def test_markdown_images_become_links_so_no_third_party_image_loads():
    html = rendering.render_markdown("![a pelican](https://example.com/p.png)")
    assert "<img" not in html
    assert 'href="https://example.com/p.png"' in html
    assert "Image: a pelican" in html


def test_fenced_code_is_highlighted_with_classes_not_inline_styles():
    html = rendering.render_markdown("```python\ndef add(a, b):\n    return a + b\n```")
    assert '<div class="highlight">' in html
    assert '<span class="k">def</span>' in html
    assert "style=" not in html


def test_markdown_keeps_tables_emphasis_and_lists():
    html = rendering.render_markdown(
        "**bold** and *it*\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    )
    assert "<strong>bold</strong>" in html
    assert "<em>it</em>" in html
    assert "<li>one</li>" in html
    assert "<table>" in html


def test_code_output_without_fences_is_highlighted_as_a_whole():
    html = rendering.render_code("def add(a, b):\n    return a + b\n", "python")
    assert '<span class="k">def</span>' in html


def test_html_output_is_shown_only_as_highlighted_escaped_source():
    html = rendering.render_output("<script>alert(1)</script>", "html")
    assert "<script>" not in html
    assert "&lt;" in html
    assert '<div class="highlight">' in html


def test_rendering_is_stored_on_save_and_reused_without_rerendering():
    response = ResponseFactory(content="# Hello")
    stored = Response.objects.get(pk=response.pk)
    assert stored.rendered_html == rendering.render_markdown("# Hello")
    assert stored.rendered_hash == rendering.content_hash("# Hello", stored.output_type)
    stored.rendered_html = "<p>from the row</p>"
    assert stored.safe_html == "<p>from the row</p>"


def test_saving_new_content_renders_it_again():
    response = ResponseFactory(content="first")
    response.content = "second"
    response.save(update_fields=["content"])
    assert "second" in Response.objects.get(pk=response.pk).rendered_html


def test_rows_written_in_bulk_are_rendered_once_into_the_cache():
    response = ResponseFactory(content="old")
    Response.objects.filter(pk=response.pk).update(content="**new**")
    stale = Response.objects.get(pk=response.pk)
    assert stale.safe_html == "<p><strong>new</strong></p>\n"
    key = f"rendered:{rendering.content_hash('**new**', stale.output_type)}"
    from django.core.cache import cache

    assert cache.get(key) == "<p><strong>new</strong></p>\n"


def test_a_one_megabyte_response_page_renders(client):
    content = (
        "A paragraph of **model output** with `code` and a [link](https://example.com).\n\n"
        * 13_000
    )[:1_000_000]
    response = ResponseFactory(content=content)
    page = client.get(response.get_absolute_url())
    assert page.status_code == 200
    assert len(page.content) > 1_000_000


def test_a_one_megabyte_html_output_is_framed_and_its_source_shown_escaped(client):
    content = "<div>" + "<p>x</p>" * 125_000 + "</div>"
    response = ResponseFactory(challenge=ChallengeFactory(output_type="html"), content=content)
    page = client.get(response.get_absolute_url())
    assert page.status_code == 200
    assert xss.executable_vectors(page.content.decode()) == []


def test_image_file_is_shown_with_its_size_and_alt_text(client, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (32, 24), "red").save(buffer, "PNG")
    response = ResponseFactory(challenge=ChallengeFactory(output_type="image"), content="")
    response.image.save("pelican.png", ContentFile(buffer.getvalue()))
    html = client.get(response.get_absolute_url()).content.decode()
    assert 'width="32" height="24"' in html
    assert 'alt="' in html
    assert "/media/responses/pelican" in html


@pytest.mark.parametrize(
    "vector",
    [
        "<script>x()</script>",
        '<img src="x" onerror="x()">',
        '<a href=" JavaScript:x()">a</a>',
        '<iframe src="/r/1/frame/" sandbox="allow-scripts allow-same-origin"></iframe>',
        "<svg></svg>",
        '<p style="color:red">x</p>',
        '<a href="https://example.com">no rel</a>',
    ],
)
def test_the_vector_checker_itself_catches_known_vectors(vector):
    assert xss.executable_vectors(vector) != []


@pytest.mark.parametrize("info", ["", "   ", "no-such-language", "python {.cls}", "x" * 500])
def test_any_fence_info_string_renders(info):
    html = rendering.render_markdown(f"```{info}\nprint(1)\n```")
    assert "print" in html
