"""Check that the services the test suite needs answer, and say plainly what is missing."""

import os
import sys

import dj_database_url
import psycopg
import psycopg.sql
import redis

problems = []
database_url = os.environ["DATABASE_URL"]
try:
    # The test database is created by the suite, so check the server through its
    # maintenance database rather than the configured one.
    db = dj_database_url.parse(database_url)
    with psycopg.connect(
        host=db["HOST"],
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"],
        dbname="postgres",
        connect_timeout=5,
        autocommit=True,
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]])
        if not exists.fetchone():
            conn.execute(
                psycopg.sql.SQL("CREATE DATABASE {}").format(psycopg.sql.Identifier(db["NAME"]))
            )
except psycopg.Error as exc:
    problems.append(
        f"PostgreSQL is not reachable at {db['HOST']}:{db['PORT'] or 5432} "
        f"({exc.__class__.__name__}).\n"
        "  Start it: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
    )
try:
    redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=5).ping()
except redis.RedisError as exc:
    problems.append(
        f"Redis is not reachable at {os.environ['REDIS_URL']} ({exc.__class__.__name__}).\n"
        '  Start it: redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" '
        "--appendonly no"
    )
if problems:
    print("The test suite needs services that are not running:\n" + "\n".join(problems))
    sys.exit(1)
print("services: PostgreSQL and Redis answer")
