"""asyncpg against a pgconn `--format asyncpg` DSN (tests/drivers.rs).

usage: DRIVER_URL=... python asyncpg_check.py whoami|pool

DRIVER_URL is the DSN exactly as `pgconn url` printed it (it holds the
password, so it never goes on the command line).
DRIVER_CONNECT_ARGS: JSON keyword arguments for asyncpg.connect (what
pgconn's note says to set in code), e.g. {"statement_cache_size": 0}.
DRIVER_ROUNDS: transactions per connection in `pool` (default 12).
"""

import asyncio
import json
import os
import sys

import asyncpg

URL = os.environ["DRIVER_URL"]
KWARGS = json.loads(os.environ.get("DRIVER_CONNECT_ARGS") or "{}")
ROUNDS = int(os.environ.get("DRIVER_ROUNDS", "12"))
QUERY = "select $1::int + 1, pg_backend_pid()"


async def whoami():
    conn = await asyncpg.connect(URL, **KWARGS)
    try:
        print(f"current_user={await conn.fetchval('select current_user')}")
    finally:
        await conn.close()


async def begin_run(conn, i, pids):
    tr = conn.transaction()
    await tr.start()
    n, pid = await conn.fetchrow(QUERY, i)
    assert n == i + 1, (n, i)
    pids.add(pid)
    return tr


async def pool():
    # see psycopg_check.py: interleaved transactions on two connections, B one ahead
    a = await asyncpg.connect(URL, **KWARGS)
    b = await asyncpg.connect(URL, **KWARGS)
    pids_a, pids_b = set(), set()
    await (await begin_run(b, -1, pids_b)).commit()
    for i in range(ROUNDS):
        ta = await begin_run(a, i, pids_a)
        tb = await begin_run(b, i, pids_b)
        await ta.commit()
        await tb.commit()
    print(f"backend_pids_a={len(pids_a)} backend_pids_b={len(pids_b)}")
    print(f"pool ok rounds={ROUNDS}")
    await a.close()
    await b.close()


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "whoami"
    try:
        asyncio.run({"whoami": whoami, "pool": pool}[mode]())
    except Exception as e:  # the test reads the message
        print(f"error: {type(e).__module__}.{type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
