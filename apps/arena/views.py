import secrets
from datetime import datetime

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap, retarget

from apps.arena import leaderboard as board
from apps.arena import selectors
from apps.arena.forms import LiveBattleForm
from apps.arena.models import LeaderboardSnapshot, LiveBattle
from apps.arena.services import battles, live, votes
from apps.arena.services.votes import VoteRefused
from apps.challenges.models import Category
from apps.lab.services import RunRefused
from apps.responses import media as battle_media
from apps.responses.frame import frame_response
from rival.web import visitors
from rival.web.pagecache import public_page

VOTER_SESSION_KEY = "arena_voter"
VOTER_SINCE_SESSION_KEY = "arena_voter_since"
RATE_LIMITED = "You are voting faster than we can count. Take a short break."
ISSUE_LIMITED = (
    "You are asking for new battles faster than anyone can read them. "
    "Take a short break, then try again."
)


def _voter(request, create: bool = False) -> str:
    voter = request.session.get(VOTER_SESSION_KEY, "")
    if not voter and create:
        voter = _voter_keep(request, battles.voter_new())
    return voter


def _voter_keep(request, voter: str) -> str:
    """Store `voter` as the session's arena id unless it is that already."""
    if request.session.get(VOTER_SESSION_KEY) != voter:
        request.session[VOTER_SESSION_KEY] = voter
        request.session[VOTER_SINCE_SESSION_KEY] = timezone.now().isoformat()
    return voter


def _over_limits(
    request, hashed_ip: str, kind: str, ip_rule: str, session_rule: str
) -> tuple[str, bool]:
    """(the visitor's arena id, whether this request is over the `kind` limits), counted per
    IP group first — a cookieless script gets a new session each time — then per arena
    session, in one round trip. A new id is only proposed here: the caller keeps it
    (_voter_keep) once the request is allowed, so over the limit no session is written."""
    voter = _voter(request) or battles.voter_new()
    limited = visitors.rate_limited_any(
        (f"arena:{kind}:ip:{hashed_ip}", ip_rule), (f"arena:{kind}:session:{voter}", session_rule)
    )
    return voter, limited


LIVE_LIMITED = (
    "You have started a lot of live battles recently. Please wait a while before starting "
    "another; the ready-made battles are open."
)


def _user_id(request) -> int | None:
    return request.user.pk if request.user.is_authenticated else None


def _voter_since(request) -> datetime | None:
    try:
        return datetime.fromisoformat(request.session.get(VOTER_SINCE_SESSION_KEY, ""))
    except ValueError:
        return None


def _category(request) -> Category | None:
    slug = request.GET.get("category") or request.POST.get("category") or ""
    if not slug:
        return None
    return Category.objects.filter(slug=slug).first()


def _render_arena(request, context: dict, *, demo_votes: bool, status: int = 200):
    if request.htmx:
        return render(request, "arena/arena.html#battle", context, status=status)
    # The category filter and the demo notice sit outside the swapped region.
    context.setdefault("categories", selectors.ratings_categories())
    context["demo_votes"] = demo_votes
    return render(request, "arena/arena.html", context, status=status)


def _issue(request, category: Category | None, ratings=None):
    """(a new battle or None, whether the visitor is over the issue limits, _over_limits)."""
    hashed_ip = visitors.request_ip_hash(request, purpose="arena")
    voter, limited = _over_limits(
        request,
        hashed_ip,
        "issue",
        settings.ARENA_ISSUE_LIMIT_IP,
        settings.ARENA_ISSUE_LIMIT_SESSION,
    )
    if limited:
        return None, True
    voter = _voter_keep(request, voter)
    return battles.battle_issue(voter=voter, category=category, ratings=ratings), False


@require_safe
@never_cache
@vary_on_headers("HX-Request")
def arena(request):
    category = _category(request)
    # The ratings weigh the battle drawn; the flag is for the page: one query for both.
    ratings, demo_votes = selectors.latest_ratings_and_demo_votes()
    battle, limited = _issue(request, category, ratings)
    if limited:
        return _render_arena(
            request,
            {"battle": None, "category": category, "limited": ISSUE_LIMITED},
            demo_votes=demo_votes,
            status=429,
        )
    context = {"battle": battle, "category": category}
    if not request.htmx:
        # The live battle form sits outside the swapped region: full pages only.
        context["live_open"] = selectors.live_battles_open(_user_id(request))
        context["live_form"] = LiveBattleForm()
    return _render_arena(request, context, demo_votes=demo_votes)


@require_POST
@never_cache
def vote(request):
    category = _category(request)
    voter = _voter(request, create=True)
    hashed_ip = visitors.request_ip_hash(request, purpose="arena")
    # Read once: the one-sided rule weighs the vote by them, the reveal shows them.
    ratings, demo_votes = selectors.latest_ratings_and_demo_votes()
    try:
        if visitors.rate_limited_any(
            (f"arena:session:{voter}", settings.ARENA_RATE_LIMIT_SESSION),
            (f"arena:ip:{hashed_ip}", settings.ARENA_RATE_LIMIT_IP),
        ):
            raise VoteRefused(RATE_LIMITED, 429)
        cast = votes.vote_cast(
            token=request.POST.get("battle", ""),
            voter=voter,
            outcome=request.POST.get("outcome", ""),
            ip_hash=hashed_ip,
            session_started=_voter_since(request),
            user=request.user if request.user.is_authenticated else None,
            ratings=ratings,
        )
    except VoteRefused as refused:
        battle, _ = _issue(request, category, ratings)
        # htmx swaps only 2xx answers; the message in the page says what happened either way.
        answer = _render_arena(
            request,
            {"battle": battle, "category": category, "error": refused.message},
            demo_votes=demo_votes,
            status=200 if request.htmx else refused.status,
        )
        # The vote form asked for the reveal in its own place: a new battle takes the arena's.
        return reswap(retarget(answer, "#arena"), "innerHTML") if request.htmx else answer
    # vote_cast loaded the models and creators to reveal; the answers themselves only a full
    # page shows again (htmx swaps the reveal alone in for the vote form).
    revealed = cast.battle
    context = {
        "battle": revealed,
        "category": category,
        "vote": cast,
        "reveal": [
            (side, response, ratings.get(response.model_id))
            for side, response in (("A", revealed.response_a), ("B", revealed.response_b))
        ],
    }
    if request.htmx:
        return render(request, "arena/arena.html#reveal", context)
    context["battle"] = selectors.battle_with_answers(revealed.pk)
    return _render_arena(request, context, demo_votes=demo_votes)


@require_safe
@xframe_options_sameorigin
def frame(request, token: str, side: str):
    """One side's output, by battle token: nothing in the URL leads to a response or model.
    The document and its policy are the ones responses:frame serves."""
    battle = selectors.battle_for_page(token, _voter(request))
    if battle is None or side not in ("a", "b"):
        raise Http404("No such battle.")
    response = battle.response_a if side == "a" else battle.response_b
    if response.output_type == "image" and response.image:
        return battle_media.battle_image(response, secrets.token_bytes(32))
    if not response.is_framed:
        raise Http404("This output is shown on the page.")
    return frame_response(response.content, response.output_type, private=True)


def _media_seed(token: str, side: str) -> bytes:
    """The same for every load of one battle side, unknowable without the secret key: a
    player that fetches the audio twice (to seek) gets the same copy."""
    return salted_hmac("arena.battle-media", f"{token}:{side}", algorithm="sha256").digest()


@require_safe
def media(request, token: str, side: str, kind: str):
    """One side's image, thumbnail, audio or waveform, by battle token: each a copy that shares
    no bytes, length, file name, digest, date or validator with the public file; pictures
    differ on every load, the audio and its waveform per battle (apps/responses/media.py)."""
    battle = selectors.battle_for_page(token, _voter(request))
    if battle is None or side not in ("a", "b"):
        raise Http404("No such battle.")
    response = battle.response_a if side == "a" else battle.response_b
    if kind in ("image", "thumb"):
        return battle_media.battle_image(response, secrets.token_bytes(32))
    if kind == "audio":
        return battle_media.battle_audio(response, _media_seed(token, side))
    if kind == "waveform":
        return battle_media.battle_waveform(response, _media_seed(token, side))
    raise Http404("No such file.")


def _render_live_new(request, form, error: str = "", status: int = 200):
    context = {
        "live_form": form,
        "error": error,
        "live_open": selectors.live_battles_open(_user_id(request)),
    }
    return render(request, "arena/live_new.html", context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@never_cache
def live_new(request):
    """The live battle form; a valid POST starts one (two anonymous models answer the
    visitor's prompt) and redirects to it. Limited per IP group, then per arena session, as
    battle issuing is; the daily spending caps are the service's."""
    if request.method != "POST":
        return _render_live_new(request, LiveBattleForm())
    form = LiveBattleForm(request.POST)
    if not form.is_valid():
        return _render_live_new(request, form, status=400)
    hashed_ip = visitors.request_ip_hash(request, purpose="arena")
    voter, limited = _over_limits(
        request, hashed_ip, "live", settings.ARENA_LIVE_LIMIT_IP, settings.ARENA_LIVE_LIMIT_SESSION
    )
    if limited:
        return _render_live_new(request, form, LIVE_LIMITED, 429)
    voter = _voter_keep(request, voter)
    try:
        started = live.live_battle_start(
            voter=voter,
            ip_hash=hashed_ip,
            prompt=form.cleaned_data["prompt"],
            user_id=_user_id(request),
        )
    except RunRefused as refused:
        return _render_live_new(request, form, refused.message, 429)
    return redirect("arena:live", token=started.token)


def _live_battle(request, token: str) -> LiveBattle:
    """The visitor's own live battle, settled once both answers are in; a 404 for anyone
    else's, exactly as for a made-up token."""
    found = selectors.live_battle_for_page(token, _voter(request))
    if found is None:
        raise Http404("No such battle.")
    results = list(found.run.results.all())
    if found.state == LiveBattle.State.ANSWERING and all(r.is_finished for r in results):
        live.live_battle_settle(live_id=found.pk)
        found = selectors.live_battle_for_page(token, _voter(request))
    return found


def _live_context(found: LiveBattle) -> dict:
    results = list(found.run.results.all())
    battle = found.battle if found.state == LiveBattle.State.READY else None
    return {
        "live": found,
        "sides": list(zip(("A", "B"), results, strict=False)),
        "pending": found.state == LiveBattle.State.ANSWERING,
        "battle": battle,
        "voted": battle is not None and selectors.battle_has_vote(battle),
        "void_failed": found.void_reason == live.VOID_FAILED,
    }


@require_safe
@never_cache
def live_battle(request, token: str):
    """A live battle: the visitor's prompt and the two anonymous answers as they stream in,
    then the vote. Nothing on it (or its partial, or its headers) tells which model wrote
    which side."""
    found = _live_battle(request, token)
    return render(request, "arena/live.html", _live_context(found))


@require_safe
@never_cache
@vary_on_headers("HX-Request")
def live_answers(request, token: str):
    """Both answers of a live battle, polled by htmx while they stream; a plain visit goes
    to the battle."""
    found = _live_battle(request, token)
    if not request.htmx:
        return redirect(reverse("arena:live", args=[token]))
    return render(request, "arena/live.html#answers", _live_context(found))


@public_page("category", "creator", "style", "all", "sort", "voters", "pairs", "model")
@require_safe
def leaderboard(request):
    category = _category(request)
    if request.GET.get("category") and category is None:
        raise Http404("No such category.")
    if request.GET.get("voters", "all") not in LeaderboardSnapshot.Voters.values:
        raise Http404("No such group of voters.")
    if request.GET.get("pairs") == "1":
        return render(
            request,
            "arena/leaderboard_pairs.html",
            board.pairs_context(category=category, model_slug=request.GET.get("model", "")),
        )
    return render(
        request,
        "arena/leaderboard.html",
        board.leaderboard_context(
            category=category,
            creator=request.GET.get("creator", ""),
            view=board.BoardView.from_query(request.GET),
        ),
    )


@public_page()
@require_safe
def best_for(request, category: str):
    category = get_object_or_404(Category, slug=category)
    return render(request, "arena/best_for.html", board.best_for_context(category))


@require_safe
def exclusions(request):
    """The public log of votes that do not count: per rule, and the latest with their reason.
    No session, address or hash is shown."""
    return render(request, "arena/exclusions.html", selectors.exclusions_log())
