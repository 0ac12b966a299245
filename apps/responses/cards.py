"""A response as its challenge's page lists it, with its values formatted as the card shows
them: what the template filters did per card (excerpt, `intcomma`, `floatformat`, `date`),
done here with the same output (rival/formatting.py) for a fraction of the cost — a page of
thirty cards spent more time in those filters than in its queries.

The excerpt is the model's text, untrusted: it stays a plain string, escaped by the template
on output (DESIGN.md, "Trust and safety").
"""

import re
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from django.utils import timezone
from django.utils.text import Truncator, add_truncation_text, calculate_truncate_chars_length

from apps.challenges.models import OutputType
from apps.responses.models import Response
from rival.formatting import short_date, thousands, whole_number
from rival.links import link

EXCERPT_SHOWN_CHARS = 300

_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_MARKS = re.compile(r"(\*\*|__|`{1,3}|^#{1,6}\s+|^>\s?|^\s*[-*+]\s+)", re.MULTILINE)


def plain_excerpt(text: str) -> str:
    """Markdown reduced to readable plain text for a card preview."""
    text = _MD_LINK.sub(r"\1", text or "")
    return " ".join(_MD_MARKS.sub("", text).split())


def truncated(text: str, length: int) -> str:
    """`truncatechars:length`. ASCII text (most answers) has no combining characters and is
    already NFC, so it is cut by slicing; anything else goes through Django's Truncator."""
    if not text.isascii():
        return Truncator(text).chars(length)
    if len(text) <= length:
        return text
    return add_truncation_text(text[: calculate_truncate_chars_length(length, None)])


class CollectedDates:
    """`collected_at` as the templates show it, formatted as the `date` filter would."""

    collected_at: datetime

    @property
    def collected_iso(self) -> str:
        """`date:"c"`."""
        return timezone.localtime(self.collected_at).isoformat()

    @property
    def collected_date(self) -> str:
        """`date:"M j, Y"`."""
        return short_date(self.collected_at)


@dataclass
class ChallengeResponseCard(CollectedDates):
    """One card of a challenge page. Built from a row of RESPONSE_CARD_COLUMNS without any
    formatting (the "Arena rating" sort builds every response's card to order them); what a
    card shows is formatted when the template asks. `rating` (a leaderboard RatingRow or None)
    is set by the view (apps.arena.selectors.ratings_attach)."""

    id: int
    model_id: int
    model_slug: str
    model_name: str
    output_type: str
    collected_at: datetime
    image: str
    image_thumb: str
    image_width: int | None
    image_height: int | None
    audio: str
    waveform: str
    chars: int
    text: str
    challenge_slug: str
    rating: object = None

    @cached_property
    def url(self) -> str:
        return link("responses:detail", self.model_slug, self.challenge_slug)

    @property
    def frame_url(self) -> str:
        """The sandboxed frame's address for HTML and SVG output, else ""."""
        if self.output_type in (OutputType.HTML, OutputType.SVG):
            return link("responses:frame", self.id)
        return ""

    @property
    def image_url(self) -> str:
        """The thumbnail's (else the image's) address for image output with an image, else ""."""
        if self.output_type != OutputType.IMAGE or not self.image:
            return ""
        if self.image_thumb:
            return _file_url("image_thumb", self.image_thumb)
        return _file_url("image", self.image)

    @property
    def waveform_url(self) -> str:
        """The waveform's address for audio output with audio, else ""."""
        if self.output_type != OutputType.AUDIO or not self.audio or not self.waveform:
            return ""
        return _file_url("waveform", self.waveform)

    @property
    def excerpt(self) -> str:
        return truncated(plain_excerpt(self.text), EXCERPT_SHOWN_CHARS)

    @property
    def length(self) -> str:
        """`intcomma` of the length in characters."""
        return thousands(self.chars)

    @property
    def rating_label(self) -> str:
        return whole_number(self.rating.rating) if self.rating else ""


def _file_url(field: str, name: str) -> str:
    """What `response.<field>.url` gives for a stored file's name, without a model instance."""
    return Response._meta.get_field(field).storage.url(name)
