// The BullMQ peer of the timer benchmark (zhitong/bench/bullmq_peer.py runs it).
// Adds `pending` delayed no-op jobs, `due` of them due at one instant and the rest 30 days
// out (those first), then runs one Worker (the given concurrency) until every due job has run; prints one
// JSON line: {"due", "pending", "concurrency", "rate", "p50", "p99", "add_s"}.
// Usage: node bullmq_peer.cjs <redis port> <pending> <due> <concurrency>
'use strict';
const { Queue, Worker } = require('bullmq');

const [port, pending, due, concurrency] = process.argv.slice(2).map(Number);
const connection = { host: '127.0.0.1', port, maxRetriesPerRequest: null };
const name = `peer${concurrency}`;

function percentile(sorted, q) {
  if (!sorted.length) return null;
  return sorted[Math.max(1, Math.ceil((q / 100) * sorted.length)) - 1];
}

async function main() {
  const queue = new Queue(name, { connection });
  const began = Date.now();
  const far = 30 * 86400000;
  const opts = { removeOnComplete: true, removeOnFail: true };
  async function add(count, at) {
    for (let start = 0; start < count; start += 1000) {
      const jobs = [];
      for (let i = start; i < Math.min(count, start + 1000); i++) {
        jobs.push({ name: 'noop', data: { at }, opts: { ...opts, delay: at - Date.now() } });
      }
      await queue.addBulk(jobs);
    }
  }
  // The jobs due later first; their pace sets the margin the due ones need to be written
  // before they fall due (a fixed margin fails on a busy machine).
  await add(pending - due, began + far);
  const perJob = (Date.now() - began) / Math.max(pending - due, 1);
  const dueAt = Date.now() + 2000 + Math.ceil(2 * perJob * due);
  await add(due, dueAt);
  const addS = (Date.now() - began) / 1000;
  if (Date.now() > dueAt) throw new Error('jobs became due before they were all added');
  const lateness = [];
  let last = 0;
  let resolveDone;
  const done = new Promise((resolve) => { resolveDone = resolve; });
  const worker = new Worker(
    name,
    async (job) => {
      const now = Date.now();
      lateness.push(now - job.data.at);
      last = now;
      if (lateness.length >= due) resolveDone();
    },
    { connection, concurrency, removeOnComplete: { count: 0 }, removeOnFail: { count: 0 } },
  );
  await done;
  await worker.close();
  await queue.close();
  lateness.sort((a, b) => a - b);
  const span = Math.max(last - dueAt, 1) / 1000;
  process.stdout.write(JSON.stringify({
    due, pending, concurrency, rate: lateness.length / span,
    p50: percentile(lateness, 50), p99: percentile(lateness, 99), add_s: addS,
  }) + '\n');
}

main().then(() => process.exit(0), (err) => { console.error(err); process.exit(1); });
