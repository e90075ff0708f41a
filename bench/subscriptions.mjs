// 1,000 graphql-ws subscribers on one talentgraph process, one write fanned
// out to all of them: delivery latency (from the writing transaction's
// start, `change.changedTimestamp`, to the client receiving the event) and the
// server's resident memory. Run by bench/subscriptions.sh.
//
//   node subscriptions.mjs WS_URL DATABASE_URL SERVER_PID [SUBSCRIBERS]
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const [url, databaseUrl, pid, count = '1000'] = process.argv.slice(2);
const subscribers = Number(count);
const query = `subscription { employmentChanged(organization: {slug: "meta"}) {
  cursor kind change { changedTimestamp } employment { title person { name } organization { name } } } }`;

const rss = () => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) / 1024;
};
const write = (title) =>
  execFileSync('psql', [databaseUrl, '-qAtc',
    `UPDATE employments SET title = '${title}' WHERE id = (SELECT e.id FROM employments e
       JOIN organizations o ON o.id = e.organization_id WHERE o.slug = 'fair' ORDER BY e.id LIMIT 1)`]);

const rssBefore = rss();
const waiting = new Map(); // title -> { received, latencies, done }
const expect = (title) => {
  let done;
  const entry = { received: 0, latencies: [], done: new Promise((r) => (done = r)) };
  entry.finish = done;
  waiting.set(title, entry);
  return entry;
};
const clients = [];
let connected = 0;
const allConnected = new Promise((resolve) => {
  for (let i = 0; i < subscribers; i++) {
    const client = createClient({ url, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0,
      on: { connected: () => { if (++connected === subscribers) resolve(); } } });
    clients.push(client);
    client.subscribe({ query }, {
      next: ({ data }) => {
        const now = Date.now();
        const event = data.employmentChanged;
        const entry = waiting.get(event.employment.title);
        if (!entry) return;
        entry.latencies.push(now - Date.parse(event.change.changedTimestamp));
        if (++entry.received === subscribers) entry.finish();
      },
      error: (e) => { console.error('subscription error', e); process.exit(1); },
      complete: () => {},
    });
  }
});
await allConnected;
// Subscriptions are armed shortly after connecting: a warm-up write that
// every subscriber hears proves it (and warms the server).
let warm = 0;
for (;;) {
  const title = `warm-up ${++warm}`;
  const entry = expect(title);
  write(title);
  const heard = await Promise.race([entry.done.then(() => true), new Promise((r) => setTimeout(() => r(false), 3000))]);
  if (heard) break;
  if (warm > 10) { console.error(`only ${entry.received} of ${subscribers} heard the warm-up`); process.exit(1); }
}
const rssSubscribed = rss();
const results = [];
for (let round = 1; round <= 5; round++) {
  const entry = expect(`measured ${round}`);
  write(`measured ${round}`);
  await entry.done;
  const sorted = entry.latencies.sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  results.push({ round, received: entry.received, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] });
}
const rssAfter = rss();
console.log(JSON.stringify({ subscribers, rssBeforeMiB: +rssBefore.toFixed(1),
  rssSubscribedMiB: +rssSubscribed.toFixed(1), rssAfterMiB: +rssAfter.toFixed(1), rounds: results }, null, 1));
for (const client of clients) client.dispose();
setTimeout(() => process.exit(0), 500);
