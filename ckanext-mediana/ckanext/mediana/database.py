"""`python3 -m ckanext.mediana.database`: waits until CKAN's database (CKAN_SQLALCHEMY_URL)
accepts connections, without loading CKAN.

The first init container of a CKAN pod whose database is external: the operator waits for a
managed PostgreSQL itself, but cannot see an external one, and CKAN dies at start when its
database does not answer (its plugins read it while loading). Without this a migration Job
started beside a database still starting fails for good, and a web pod waits out a crash
loop's back-off after the database is up.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import sqlalchemy as sa
from sqlalchemy.engine import make_url

URL_VARIABLE = "CKAN_SQLALCHEMY_URL"


def wait(url: str, timeout: float, every: float = 2.0, say=print) -> bool:
    """Tries to connect to `url` every `every` seconds until it works (True) or `timeout`
    seconds have passed (False), saying why it waits at most every ten seconds."""
    parsed = make_url(url)
    where = f"{parsed.host}:{parsed.port or 5432}/{parsed.database}"
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args={"connect_timeout": 5})
    start, said = time.monotonic(), None
    try:
        while True:
            try:
                with engine.connect() as connection:
                    connection.execute(sa.text("SELECT 1"))
                say(f"mediana: the database at {where} accepts connections")
                return True
            except sa.exc.OperationalError as error:
                # The driver's first line: the reason, never the URL's password.
                reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
                waited = time.monotonic() - start
                if waited >= timeout:
                    say(f"mediana: the database at {where} did not accept connections in {timeout:.0f} s: {reason}")
                    return False
                if said is None or waited - said >= 10:
                    say(f"mediana: waiting for the database at {where}: {reason}")
                    said = waited
                time.sleep(every)
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m ckanext.mediana.database", description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait before failing (default 600)")
    args = parser.parse_args(argv)
    url = os.environ.get(URL_VARIABLE)
    if not url:
        print(f"mediana: {URL_VARIABLE} is not set: it names CKAN's database", file=sys.stderr)
        return 2
    try:
        make_url(url)
    except sa.exc.ArgumentError:
        print(f"mediana: {URL_VARIABLE} is not a database URL", file=sys.stderr)
        return 2
    return 0 if wait(url, args.timeout, say=lambda line: print(line, file=sys.stderr, flush=True)) else 1


if __name__ == "__main__":
    sys.exit(main())
