"""Copy each vote's challenge and answers from its battle, and keep a tally of votes per pair
of answers by database triggers, so a leaderboard recompute reads tallies, not votes
(docs/ratings.md)."""

import django.db.models.deletion
from django.db import migrations, models

KEY = "response_a_id, response_b_id, category_id, is_verified, is_counted"
COLUMNS = f"{KEY}, challenge_id, model_a_id, model_b_id, wins_a, wins_b, ties, both_bad"
OUTCOMES = (("wins_a", "a"), ("wins_b", "b"), ("ties", "tie"), ("both_bad", "both_bad"))
ADD_COUNTS = ", ".join(f"{c} = arena_votetally.{c} + excluded.{c}" for c, _ in OUTCOMES)


def _aggregate(source: str, signed: bool) -> str:
    """Tally rows of `source` (votes, with a `sign` column when `signed`), one per key, in
    key order so concurrent statements lock tally rows in the same order."""
    weight = "sign * " if signed else ""
    sums = ", ".join(
        f"sum({weight}CASE WHEN outcome = '{o}' THEN 1 ELSE 0 END)" for _, o in OUTCOMES
    )
    having = " OR ".join(
        f"sum({weight}CASE WHEN outcome = '{o}' THEN 1 ELSE 0 END) <> 0" for _, o in OUTCOMES
    )
    return (
        "SELECT response_a_id, response_b_id, COALESCE(category_id, 0), is_verified,"
        f" is_counted, max(challenge_id), max(model_a_id), max(model_b_id), {sums}"
        f" FROM {source} GROUP BY 1, 2, 3, 4, 5 HAVING {having} ORDER BY 1, 2, 3, 4, 5"
    )


def _upsert(source: str, signed: bool) -> str:
    return (
        f"INSERT INTO arena_votetally ({COLUMNS}) {_aggregate(source, signed)}"
        f" ON CONFLICT ({KEY}) DO UPDATE SET {ADD_COUNTS}"
    )


# PostgreSQL: statement-level triggers with transition tables, so a queryset update of ten
# thousand votes (an exclusion) or a COPY is one aggregated upsert, not one per row.
POSTGRESQL_FUNCTION = f"""
CREATE FUNCTION arena_vote_tally_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_upsert("(SELECT 1 AS sign, * FROM new_votes) AS d", True)};
    ELSIF TG_OP = 'DELETE' THEN
        {_upsert("(SELECT -1 AS sign, * FROM old_votes) AS d", True)};
    ELSE
        {_upsert(
            "(SELECT 1 AS sign, * FROM new_votes UNION ALL SELECT -1, * FROM old_votes) AS d", True
        )};
    END IF;
    RETURN NULL;
END $$;
"""
POSTGRESQL_TRIGGERS = [
    "CREATE TRIGGER arena_vote_tally_insert AFTER INSERT ON arena_vote"
    " REFERENCING NEW TABLE AS new_votes"
    " FOR EACH STATEMENT EXECUTE FUNCTION arena_vote_tally_apply()",
    "CREATE TRIGGER arena_vote_tally_update AFTER UPDATE ON arena_vote"
    " REFERENCING OLD TABLE AS old_votes NEW TABLE AS new_votes"
    " FOR EACH STATEMENT EXECUTE FUNCTION arena_vote_tally_apply()",
    "CREATE TRIGGER arena_vote_tally_delete AFTER DELETE ON arena_vote"
    " REFERENCING OLD TABLE AS old_votes"
    " FOR EACH STATEMENT EXECUTE FUNCTION arena_vote_tally_apply()",
]
POSTGRESQL_DROP = [
    "DROP TRIGGER IF EXISTS arena_vote_tally_insert ON arena_vote",
    "DROP TRIGGER IF EXISTS arena_vote_tally_update ON arena_vote",
    "DROP TRIGGER IF EXISTS arena_vote_tally_delete ON arena_vote",
    "DROP FUNCTION IF EXISTS arena_vote_tally_apply()",
]


def _sqlite_row(row: str, sign: int) -> str:
    counts = ", ".join(f"{sign} * ({row}.outcome = '{o}')" for _, o in OUTCOMES)
    return (
        f"INSERT INTO arena_votetally ({COLUMNS}) VALUES ({row}.response_a_id,"
        f" {row}.response_b_id, COALESCE({row}.category_id, 0), {row}.is_verified,"
        f" {row}.is_counted, {row}.challenge_id, {row}.model_a_id, {row}.model_b_id, {counts})"
        f" ON CONFLICT ({KEY}) DO UPDATE SET {ADD_COUNTS};"
    )


# SQLite (the development default) has no transition tables: one upsert per row.
SQLITE_TRIGGERS = [
    "CREATE TRIGGER arena_vote_tally_insert AFTER INSERT ON arena_vote"
    f" BEGIN {_sqlite_row('NEW', 1)} END",
    "CREATE TRIGGER arena_vote_tally_update AFTER UPDATE ON arena_vote"
    f" BEGIN {_sqlite_row('OLD', -1)} {_sqlite_row('NEW', 1)} END",
    "CREATE TRIGGER arena_vote_tally_delete AFTER DELETE ON arena_vote"
    f" BEGIN {_sqlite_row('OLD', -1)} END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS arena_vote_tally_insert",
    "DROP TRIGGER IF EXISTS arena_vote_tally_update",
    "DROP TRIGGER IF EXISTS arena_vote_tally_delete",
]


def copy_from_battles(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        if schema_editor.connection.vendor == "postgresql":
            # Check the foreign keys now, so no deferred check is pending when the columns
            # become NOT NULL in this same transaction.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(
            "UPDATE arena_vote SET challenge_id = b.challenge_id,"
            " response_a_id = b.response_a_id, response_b_id = b.response_b_id"
            " FROM arena_battle AS b WHERE b.id = arena_vote.battle_id"
        )


def tally_start(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO arena_votetally ({COLUMNS}) {_aggregate('arena_vote', False)}"
        )
        if vendor == "postgresql":
            cursor.execute(POSTGRESQL_FUNCTION)
            statements = POSTGRESQL_TRIGGERS
        elif vendor == "sqlite":
            statements = SQLITE_TRIGGERS
        else:
            raise NotImplementedError(f"no vote tally triggers for {vendor}")
        for statement in statements:
            cursor.execute(statement)


def tally_stop(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    with schema_editor.connection.cursor() as cursor:
        for statement in POSTGRESQL_DROP if vendor == "postgresql" else SQLITE_DROP:
            cursor.execute(statement)


def _copied(field: str, to: str, null: bool):
    return migrations.AlterField(
        model_name="vote",
        name=field,
        field=models.ForeignKey(
            db_index=False,
            null=null,
            on_delete=django.db.models.deletion.CASCADE,
            related_name="+",
            to=to,
        ),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("arena", "0006_live_battles"),
        ("challenges", "0002_blind_pool"),
        ("responses", "0004_response_public_from"),
    ]

    operations = [
        *(
            migrations.AddField(
                model_name="vote",
                name=name,
                field=models.ForeignKey(
                    db_index=False,
                    null=True,
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="+",
                    to=to,
                ),
            )
            for name, to in (
                ("challenge", "challenges.challenge"),
                ("response_a", "responses.response"),
                ("response_b", "responses.response"),
            )
        ),
        migrations.RunPython(copy_from_battles, migrations.RunPython.noop),
        _copied("challenge", "challenges.challenge", null=False),
        _copied("response_a", "responses.response", null=False),
        _copied("response_b", "responses.response", null=False),
        migrations.CreateModel(
            name="VoteTally",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("response_a_id", models.BigIntegerField()),
                ("response_b_id", models.BigIntegerField()),
                ("category_id", models.BigIntegerField()),
                ("is_verified", models.BooleanField()),
                ("is_counted", models.BooleanField()),
                ("challenge_id", models.BigIntegerField()),
                ("model_a_id", models.BigIntegerField()),
                ("model_b_id", models.BigIntegerField()),
                ("wins_a", models.IntegerField(default=0)),
                ("wins_b", models.IntegerField(default=0)),
                ("ties", models.IntegerField(default=0)),
                ("both_bad", models.IntegerField(default=0)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=(
                            "response_a_id",
                            "response_b_id",
                            "category_id",
                            "is_verified",
                            "is_counted",
                        ),
                        name="vote_tally_key",
                    )
                ],
            },
        ),
        migrations.RunPython(tally_start, tally_stop),
    ]
