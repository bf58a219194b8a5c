// node-postgres (npm `pg`) against a pgconn `--format node` URL (tests/drivers.rs).
//
// usage: DRIVER_URL=... NODE_PATH=lab/.drivers/node/node_modules node node_check.js whoami|pool
//
// DRIVER_URL is the URL exactly as `pgconn url` printed it (it holds the
// password, so it never goes on the command line). DRIVER_ROUNDS:
// transactions per connection in `pool` (default 12). DRIVER_NAMED=1 gives
// the query a name (a named prepared statement: the negative control).
'use strict';

const { Client } = require('pg');

const URL = process.env.DRIVER_URL;
const ROUNDS = Number(process.env.DRIVER_ROUNDS || '12');
const QUERY = 'select $1::int + 1 as n, pg_backend_pid() as pid';
const NAMED = process.env.DRIVER_NAMED === '1';

async function connect() {
  const c = new Client({ connectionString: URL });
  await c.connect();
  return c;
}

async function whoami() {
  const c = await connect();
  try {
    const r = await c.query('select current_user as u');
    console.log(`current_user=${r.rows[0].u}`);
  } finally {
    await c.end();
  }
}

async function beginRun(c, i, pids) {
  await c.query('begin');
  const q = NAMED ? { name: 'pgconn_check', text: QUERY, values: [i] } : { text: QUERY, values: [i] };
  const r = await c.query(q);
  if (r.rows[0].n !== i + 1) throw new Error(`wrong answer ${r.rows[0].n} for ${i}`);
  pids.add(r.rows[0].pid);
}

async function pool() {
  // see psycopg_check.py: interleaved transactions on two connections, B one ahead
  const a = await connect();
  const b = await connect();
  const pidsA = new Set();
  const pidsB = new Set();
  await beginRun(b, -1, pidsB);
  await b.query('commit');
  for (let i = 0; i < ROUNDS; i++) {
    await beginRun(a, i, pidsA);
    await beginRun(b, i, pidsB);
    await a.query('commit');
    await b.query('commit');
  }
  console.log(`backend_pids_a=${pidsA.size} backend_pids_b=${pidsB.size}`);
  console.log(`pool ok rounds=${ROUNDS}`);
  await a.end();
  await b.end();
}

const mode = process.argv[2] || 'whoami';
const run = { whoami, pool }[mode];
if (!run) {
  console.error(`unknown mode ${mode}`);
  process.exit(2);
}
run().then(
  () => process.exit(0),
  (e) => {
    console.error(`error: ${e.code || e.name}: ${e.message}`);
    process.exit(1);
  },
);
