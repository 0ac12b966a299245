import sys
import time
from decimal import Decimal, InvalidOperation

from django.core.management.base import BaseCommand, CommandError

from apps.catalog.models import AIModel, Gateway
from apps.challenges.models import Challenge
from apps.collection.models import CollectionRun
from apps.collection.services import PromptTooLong, check_prompt, run_create, run_plan


class Command(BaseCommand):
    help = "Collect missing responses from provider APIs (through Celery workers)."

    def add_arguments(self, parser):
        what = parser.add_mutually_exclusive_group(required=True)
        what.add_argument("--challenge", metavar="SLUG", help="Every active model × this one.")
        what.add_argument("--model", metavar="SLUG", help="This model × published challenges.")
        what.add_argument("--missing", action="store_true", help="Every missing pair.")
        parser.add_argument("--gateway", metavar="NAME", help="Only models on this gateway.")
        parser.add_argument("--budget", metavar="USD", help="Stop planning past this estimate.")
        parser.add_argument("--dry-run", action="store_true", help="Print the calls and cost.")
        parser.add_argument("--wait", action="store_true", help="Show progress until done.")
        parser.add_argument("--timeout", type=float, default=None, help="Give up waiting after.")

    def handle(self, *args, **options):
        scope, challenges, ai_models = self._scope(options)
        gateway = None
        if options["gateway"]:
            gateway = Gateway.objects.filter(name=options["gateway"]).first()
            if gateway is None:
                raise CommandError(f"No gateway named {options['gateway']!r}.")
        budget = None
        if options["budget"]:
            try:
                budget = Decimal(options["budget"])
            except InvalidOperation as exc:
                raise CommandError("--budget must be a number of USD.") from exc
        kwargs = {
            "scope": scope,
            "challenges": challenges,
            "ai_models": ai_models,
            "gateway": gateway,
            "budget_usd": budget,
        }
        if options["dry_run"]:
            self._dry_run(**kwargs)
            return
        run = run_create(**kwargs)
        if run.state == CollectionRun.State.FAILED:
            raise CommandError(f"Run {run.pk} failed: {run.error}")
        total = run.jobs.count()
        self.stdout.write(
            f"Run {run.pk}: {total} calls queued, estimated ${run.estimated_cost_usd:.4f}"
            + (
                f", {run.skipped_over_budget} left out by the budget"
                if run.skipped_over_budget
                else ""
            )
        )
        if options["wait"]:
            self._wait(run, options["timeout"])

    def _scope(self, options):
        if options["challenge"]:
            challenge = Challenge.objects.filter(slug=options["challenge"]).first()
            if challenge is None:
                raise CommandError(f"No challenge {options['challenge']!r}.")
            try:
                check_prompt(challenge)
            except PromptTooLong as exc:
                raise CommandError(f"Refused before any call: {exc.message}") from exc
            return CollectionRun.Scope.CHALLENGE, [challenge], []
        if options["model"]:
            model = AIModel.objects.filter(slug=options["model"]).first()
            if model is None:
                raise CommandError(f"No model {options['model']!r}.")
            return CollectionRun.Scope.MODEL, [], [model]
        return CollectionRun.Scope.MISSING, [], []

    def _dry_run(self, **kwargs):
        planned, over_budget = run_plan(**kwargs)
        total = Decimal(0)
        for call in planned:
            gateway = call.model.gateway.name
            if call.refusal:
                self.stdout.write(
                    f"REFUSED {call.model.slug} × {call.challenge.slug}: {call.refusal}"
                )
                continue
            total += call.estimate
            self.stdout.write(
                f"{gateway}: {call.model.gateway_model_id or call.model.slug} × "
                f"{call.challenge.slug}  ~${call.estimate:.4f}"
            )
        calls = sum(1 for c in planned if not c.refusal)
        self.stdout.write(f"{calls} calls, estimated cost ${total:.4f} (dry run: nothing sent)")
        if over_budget:
            self.stdout.write(f"{len(over_budget)} more calls left out by the budget cap")

    def _wait(self, run: CollectionRun, timeout: float | None):
        deadline = None if timeout is None else time.monotonic() + timeout
        width = 30
        while True:
            counts = CollectionRun.objects.with_counts().get(pk=run.pk)
            finished = counts.n_total - counts.n_pending
            filled = width * finished // counts.n_total if counts.n_total else width
            line = (
                f"\r[{'#' * filled}{'.' * (width - filled)}] {finished}/{counts.n_total} "
                f"done {counts.n_done} failed {counts.n_failed}"
            )
            self.stdout.write(line, ending="")
            sys.stdout.flush()
            if counts.state != CollectionRun.State.RUNNING:
                break
            if deadline is not None and time.monotonic() > deadline:
                self.stdout.write("")
                raise CommandError(f"Run {run.pk} still running after {timeout}s.")
            time.sleep(0.5)
        self.stdout.write("")
        self.stdout.write(f"Run {run.pk} {counts.state}.")
        if counts.error:
            self.stdout.write(f"Error: {counts.error}")
        for job in run.jobs.filter(state="failed").select_related("model", "challenge")[:20]:
            self.stdout.write(f"  failed {job.model.slug} × {job.challenge.slug}: {job.last_error}")
