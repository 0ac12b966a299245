"""Arena ratings joined onto catalog objects for display and sorting.

Catalog and challenges sit below the arena, so their selectors cannot read ratings; pages
that show both fetch `arena.selectors.latest_ratings()` (one query) and join here.
"""

from collections.abc import Callable, Iterable

from apps.arena import selectors as arena


def latest() -> dict:
    return arena.latest_ratings()


def attach(objects: Iterable, ratings: dict, model_id: Callable = lambda o: o.pk) -> list:
    """Set `.rating` (a RatingRow or None) on each object; returns them as a list."""
    objects = list(objects)
    for obj in objects:
        obj.rating = ratings.get(model_id(obj))
    return objects


def by_rating(objects: Iterable, ratings: dict, model_id: Callable = lambda o: o.pk) -> list:
    """Rated first, best first; unrated keep their incoming order after them."""
    objects = attach(objects, ratings, model_id)
    return sorted(objects, key=lambda o: (o.rating is None, -(o.rating.rating if o.rating else 0)))
