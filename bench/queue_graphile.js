// bench/queue_graphile.js — the graphile-worker 0.17.3 side of bench/queue.sh.
// usage: node queue_graphile.js migrate|enqueue N|drain C batched|unbatched|latency N|
//                                kopro-latency N|idle SECONDS
// The connection string is $DATABASE_URL. NODE_PATH must hold graphile-worker.
"use strict";
const { run, runMigrations, Logger } = require("graphile-worker");
const { Pool } = require("pg");

const connectionString = process.env.DATABASE_URL;
const [mode, arg1, arg2] = process.argv.slice(2);
const logger = new Logger(() => () => {}); // quiet: its per-job log lines would dominate
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function preset(concurrency, batched) {
  const worker = { connectionString, concurrentJobs: concurrency, pollInterval: 1000 };
  if (batched) {
    worker.localQueue = { size: 500 };
    worker.completeJobBatchDelay = 0;
    worker.failJobBatchDelay = 0;
  } else {
    worker.completeJobBatchDelay = -1;
    worker.failJobBatchDelay = -1;
  }
  return { worker };
}

async function main() {
  const pool = new Pool({ connectionString, max: 2 });
  if (mode === "migrate") {
    await runMigrations({ connectionString, logger });
    await pool.query("create table if not exists public.bench_lat (job_id bigint, at timestamptz)");
  } else if (mode === "enqueue") {
    // Its bulk API, graphile_worker.add_jobs(job_spec[]), in one statement:
    // add_job() called once per row slows down quadratically on a fresh
    // table (100,000 rows did not finish in 10 minutes).
    await pool.query(
      "select count(*) from graphile_worker.add_jobs((select array_agg(" +
        "row('noop', '{}'::json, null, null, null, null, null, null)::graphile_worker.job_spec)" +
        " from generate_series(1, $1::int)))",
      [Number(arg1)]
    );
  } else if (mode === "drain") {
    const runner = await run({
      preset: preset(Number(arg1), arg2 === "batched"),
      noHandleSignals: true,
      logger,
      taskList: { noop: async () => {} },
    });
    // Done when this runner has been idle for 100 ms and no job is left. The
    // table is not queried while jobs complete: a count(*) every 100 ms from
    // both drivers took about half a core of PostgreSQL from graphile-worker
    // (pg_stat_statements: 4.6 s of a 8.5 s drain).
    let lastDone = Date.now();
    runner.events.on("job:complete", () => {
      lastDone = Date.now();
    });
    for (;;) {
      await sleep(100);
      if (Date.now() - lastDone < 100) continue;
      const r = await pool.query(
        "select exists (select 1 from graphile_worker._private_jobs) as any"
      );
      if (!r.rows[0].any) break;
    }
    await runner.stop();
  } else if (mode === "latency") {
    const runner = await run({
      preset: preset(1, false),
      noHandleSignals: true,
      logger,
      taskList: {
        lat: async (payload, helpers) => {
          await helpers.query("insert into public.bench_lat values ($1, clock_timestamp())", [
            helpers.job.id,
          ]);
        },
      },
    });
    const lat = [];
    for (let i = 0; i < Number(arg1); i++) {
      const r = await pool.query(
        "select clock_timestamp() as t0, (graphile_worker.add_job('lat', '{}'::json)).id as id"
      );
      const { t0, id } = r.rows[0];
      for (;;) {
        const q = await pool.query(
          "select extract(epoch from at - $2::timestamptz) * 1000 as ms from public.bench_lat where job_id = $1",
          [id, t0]
        );
        if (q.rows.length) {
          lat.push(Number(q.rows[0].ms));
          break;
        }
        await sleep(1);
      }
    }
    await runner.stop();
    console.log(lat.join("\n"));
  } else if (mode === "kopro-latency") {
    // The same driver loop for kopro (a kopro-worker runs test.record meanwhile).
    const lat = [];
    for (let i = 0; i < Number(arg1); i++) {
      const r = await pool.query(
        "select clock_timestamp() as t0, kopro.enqueue('test.record', '{}'::jsonb, null) as id"
      );
      const { t0, id } = r.rows[0];
      for (;;) {
        const q = await pool.query(
          "select extract(epoch from at - $2::timestamptz) * 1000 as ms from kopro_test.records where job_id = $1",
          [id, t0]
        );
        if (q.rows.length) {
          lat.push(Number(q.rows[0].ms));
          break;
        }
        await sleep(1);
      }
    }
    console.log(lat.join("\n"));
  } else if (mode === "idle") {
    const runner = await run({ preset: preset(2, false), noHandleSignals: true,
      logger, taskList: { noop: async () => {} } });
    console.error("idle-ready");
    await sleep(Number(arg1) * 1000);
    await runner.stop();
  }
  await pool.end();
}
main().catch((e) => {
  console.error(e);
  process.exit(1);
});
