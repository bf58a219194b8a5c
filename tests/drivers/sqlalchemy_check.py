"""SQLAlchemy (postgresql+psycopg or postgresql+asyncpg) against a pgconn
`--format sqlalchemy` / `sqlalchemy-asyncpg` URL (tests/drivers.rs).

usage: DRIVER_URL=... python sqlalchemy_check.py whoami|pool

DRIVER_URL is the URL exactly as `pgconn url` printed it (it holds the
password, so it never goes on the command line). What pgconn's note says to
set in code: DRIVER_CONNECT_ARGS (JSON, create_engine's connect_args),
DRIVER_NULLPOOL=1 (poolclass=NullPool); PGSSLROOTCERT is read by asyncpg.
DRIVER_ROUNDS: transactions per connection in `pool` (default 12).
"""

import asyncio
import json
import os
import sys

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

URL = os.environ["DRIVER_URL"]
CONNECT_ARGS = json.loads(os.environ.get("DRIVER_CONNECT_ARGS") or "{}")
ROUNDS = int(os.environ.get("DRIVER_ROUNDS", "12"))
QUERY = text("select cast(:n as integer) + 1, pg_backend_pid()")
ASYNC = URL.startswith("postgresql+asyncpg:")


def engine_kwargs():
    kw = {"connect_args": CONNECT_ARGS}
    if os.environ.get("DRIVER_NULLPOOL") == "1":
        kw["poolclass"] = NullPool
    return kw


def check(row, i, pids):
    n, pid = row
    assert n == i + 1, (n, i)
    pids.add(pid)


def sync_main(mode):
    engine = create_engine(URL, **engine_kwargs())
    try:
        if mode == "whoami":
            with engine.connect() as conn:
                print(f"current_user={conn.execute(text('select current_user')).scalar_one()}")
            return
        # see psycopg_check.py: interleaved transactions on two connections, B one ahead
        with engine.connect() as a, engine.connect() as b:
            pids_a, pids_b = set(), set()
            check(b.execute(QUERY, {"n": -1}).one(), -1, pids_b)
            b.commit()
            for i in range(ROUNDS):
                check(a.execute(QUERY, {"n": i}).one(), i, pids_a)
                check(b.execute(QUERY, {"n": i}).one(), i, pids_b)
                a.commit()
                b.commit()
            print(f"backend_pids_a={len(pids_a)} backend_pids_b={len(pids_b)}")
            print(f"pool ok rounds={ROUNDS}")
    finally:
        engine.dispose()


async def async_main(mode):
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(URL, **engine_kwargs())
    try:
        if mode == "whoami":
            async with engine.connect() as conn:
                user = (await conn.execute(text("select current_user"))).scalar_one()
                print(f"current_user={user}")
            return
        async with engine.connect() as a, engine.connect() as b:
            pids_a, pids_b = set(), set()
            check((await b.execute(QUERY, {"n": -1})).one(), -1, pids_b)
            await b.commit()
            for i in range(ROUNDS):
                check((await a.execute(QUERY, {"n": i})).one(), i, pids_a)
                check((await b.execute(QUERY, {"n": i})).one(), i, pids_b)
                await a.commit()
                await b.commit()
            print(f"backend_pids_a={len(pids_a)} backend_pids_b={len(pids_b)}")
            print(f"pool ok rounds={ROUNDS}")
    finally:
        await engine.dispose()


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "whoami"
    if mode not in ("whoami", "pool"):
        sys.exit(f"unknown mode {mode}")
    try:
        if ASYNC:
            asyncio.run(async_main(mode))
        else:
            sync_main(mode)
    except Exception as e:  # the test reads the message
        print(f"error: {type(e).__module__}.{type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
