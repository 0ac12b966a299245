from django.core.management.base import BaseCommand, CommandError

from apps.gateways.fakeprovider import FAULT_KINDS, FakeProvider, parse_faults


class Command(BaseCommand):
    help = (
        "Run a fake provider speaking OpenAI-compatible /v1/chat/completions, /v1/models and "
        "Anthropic /v1/messages, with injectable faults. For tests, benchmarks and demos."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8765, help="0 picks a free port.")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--latency", type=float, default=0.0, help="Seconds per answer.")
        parser.add_argument(
            "--faults",
            default="",
            help=f"Rates per fault, e.g. 429=0.05,cut=0.02. Kinds: {', '.join(FAULT_KINDS)}.",
        )
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--retry-after", type=float, default=2, help="Sent with 429s.")
        parser.add_argument("--hang", type=float, default=30, help="How long a timeout hangs.")

    def handle(self, *args, **options):
        try:
            parse_faults(options["faults"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        fake = FakeProvider(
            host=options["host"],
            port=options["port"],
            latency=options["latency"],
            faults=options["faults"],
            seed=options["seed"],
            retry_after=options["retry_after"],
            hang=options["hang"],
        )
        self.stdout.write(f"Fake provider listening on {fake.url} (base URL {fake.base_url})")
        self.stdout.flush()
        try:
            fake.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            fake.stop()
