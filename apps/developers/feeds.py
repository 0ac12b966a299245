"""RSS 2.0 and Atom feeds: newest responses (everywhere, per model, per challenge) and the
leaderboard's changes. Items come from resources.py, as the API's do.

Model output and model names are hostile: descriptions are HTML-escaped text (a reader
renders them as text, not markup), and characters XML 1.0 cannot carry are dropped.
"""

import re

from django.contrib.syndication.views import Feed
from django.http import Http404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, Rss201rev2Feed
from django.utils.html import escape
from django.utils.text import Truncator

from apps.developers import resources

ITEMS = 30
EXCERPT_CHARS = 600
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_text(text: str) -> str:
    return _NOT_XML.sub("", text or "")


class ResponsesFeed(Feed):
    """Newest published responses; subclasses narrow it to one model or one challenge."""

    feed_type = Rss201rev2Feed
    filters: dict = {}

    def title(self, obj=None):
        return "Rival: newest responses"

    def link(self, obj=None):
        return reverse("pages:home")

    def description(self, obj=None):
        return "The newest answers of AI models to Rival's challenges."

    def items(self, obj=None):
        return resources.list_responses(**self.filters_for(obj), limit=ITEMS).items

    def filters_for(self, obj) -> dict:
        return {}

    def item_title(self, item):
        return xml_text(f"{item.model.name} on {item.challenge.title}")

    def item_description(self, item):
        text = item.content or f"({item.output_type} output)"
        return escape(xml_text(Truncator(text).chars(EXCERPT_CHARS)))

    def item_link(self, item):
        return item.url

    def item_guid(self, item):
        return item.url

    def item_pubdate(self, item):
        return item.collected_at

    def item_updateddate(self, item):
        return item.added_at

    def item_author_name(self, item):
        return xml_text(item.model.name)

    def item_categories(self, item):
        category = item.challenge.category
        return [xml_text(category.name)] if category else []


class ModelResponsesFeed(ResponsesFeed):
    def get_object(self, request, slug):
        try:
            return resources.get_model(slug)
        except resources.NotFound as error:
            raise Http404(str(error)) from error

    def title(self, obj=None):
        return xml_text(f"Rival: {obj.name}'s newest responses")

    def link(self, obj=None):
        return obj.url

    def description(self, obj=None):
        return xml_text(f"New answers by {obj.name} to Rival's challenges.")

    def filters_for(self, obj) -> dict:
        return {"model": obj.slug}


class ChallengeResponsesFeed(ResponsesFeed):
    def get_object(self, request, slug):
        try:
            return resources.get_challenge(slug)
        except resources.NotFound as error:
            raise Http404(str(error)) from error

    def title(self, obj=None):
        return xml_text(f"Rival: responses to {obj.title}")

    def link(self, obj=None):
        return obj.url

    def description(self, obj=None):
        return xml_text(f"Every model's answer to “{obj.title}”, newest first.")

    def filters_for(self, obj) -> dict:
        return {"challenge": obj.slug}


class LeaderboardChangesFeed(Feed):
    feed_type = Rss201rev2Feed
    title = "Rival: leaderboard changes"
    description = "A new #1, models ranked for the first time, and retirements."

    def link(self):
        return reverse("arena:leaderboard")

    def items(self):
        return resources.leaderboard_changes()[:ITEMS]

    def item_title(self, item):
        return xml_text(item.title)

    def item_description(self, item):
        return escape(xml_text(item.description))

    def item_link(self, item):
        return item.url

    def item_guid(self, item):
        return f"{item.url}#{item.key}"

    item_guid_is_permalink = False

    def item_pubdate(self, item):
        return item.moment

    def item_categories(self, item):
        return [item.kind]


def atom(feed_class):
    """The same feed as Atom 1.0 (which also wants a subtitle)."""

    class AtomFeed(feed_class):
        feed_type = Atom1Feed

        def subtitle(self, obj=None):
            description = feed_class.description
            return description(self, obj) if callable(description) else description

    AtomFeed.__name__ = f"Atom{feed_class.__name__}"
    return AtomFeed
