// Streams runs with one of the two installed majors of the official JS SDK:
// `client.runs.stream` around a human interrupt (and the resume), then
// `client.runs.joinStream` on a background `slow` run, live and replayed.
//
//   WAYPOST_URL=http://127.0.0.1:8123 node tests/js/stream.mjs sdk2   # @langchain/langgraph-sdk 2.0.0
//   WAYPOST_URL=http://127.0.0.1:8123 node tests/js/stream.mjs sdk1   # @langchain/langgraph-sdk 1.15.0
//
// Prints one JSON line per chunk ({"phase", "event", "data", "id"}) and, last,
// `RESULT <json>` for the pytest wrapper (tests/stream/test_js_stream.py).
//
// The wrapper also sets WAYPOST_HOLD_CONFIG, the background run's config, which holds it
// inside its node (tests/graphs/markers.py), and WAYPOST_RELEASE, the file that lets it go
// on: the script creates that file once its live join is answered, so the join sees the
// run's events however slowly the join got there.

const pkg = process.argv[2];
if (pkg !== "sdk1" && pkg !== "sdk2") {
  console.error("usage: node stream.mjs sdk1|sdk2  (with WAYPOST_URL set)");
  process.exit(2);
}
const apiUrl = process.env.WAYPOST_URL;
if (!apiUrl) {
  console.error("WAYPOST_URL is not set");
  process.exit(2);
}

const holdConfig = JSON.parse(process.env.WAYPOST_HOLD_CONFIG ?? "null");
const release = process.env.WAYPOST_RELEASE;
if (!holdConfig || !release) {
  console.error("WAYPOST_HOLD_CONFIG and WAYPOST_RELEASE must be set");
  process.exit(2);
}

const { Client, overrideFetchImplementation } = await import(pkg);
const { writeFileSync } = await import("node:fs");

// `answered(path)` resolves when the SDK has the response to its request for `path`. A stream
// endpoint subscribes the request before it answers, so a join answered misses nothing after.
const waiting = new Map();
const answered = (path) => new Promise((resolve) => waiting.set(path, resolve));
overrideFetchImplementation(async (input, init) => {
  const response = await fetch(input, init);
  const path = new URL(input instanceof Request ? input.url : String(input)).pathname;
  waiting.get(path)?.();
  waiting.delete(path);
  return response;
});
const client = new Client({ apiUrl });

async function collect(phase, iterable) {
  const chunks = [];
  for await (const chunk of iterable) {
    // JS2 yields a blank part for a heartbeat that follows an id-bearing event; skip it.
    if (!chunk.event) continue;
    const part = { phase, event: chunk.event, data: chunk.data, id: chunk.id ?? null };
    console.log(JSON.stringify(part));
    chunks.push(part);
  }
  return chunks;
}

// 1. stream a run to its interrupt, then resume it through another stream
const thread = await client.threads.create();
const threadId = thread.thread_id;
let created = null;
const streamed = await collect(
  "stream",
  client.runs.stream(threadId, "agent", {
    input: { some_text: "js text" },
    streamMode: ["values", "updates"],
    onRunCreated: (meta) => { created = meta; },
  }),
);
const resumed = await collect(
  "resume",
  client.runs.stream(threadId, "agent", {
    command: { resume: "js edit" },
    streamMode: ["values", "updates"],
  }),
);
const threadAfter = await client.threads.get(threadId);

// 2. a background run, joined live, then replayed from the start once it is over
const bgThread = await client.threads.create();
const bgThreadId = bgThread.thread_id;
const bg = await client.runs.create(bgThreadId, "slow", {
  input: { some_text: "bg", delay: 0 },
  streamMode: ["values", "updates"],
  streamResumable: true,
  config: holdConfig,
});
const statusAtJoin = (await client.runs.get(bgThreadId, bg.run_id)).status;
const joinAnswered = answered(`/threads/${bgThreadId}/runs/${bg.run_id}/stream`);
const joining = collect("join", client.runs.joinStream(bgThreadId, bg.run_id));
await joinAnswered;
writeFileSync(release, ""); // the join is listening: let the run go on
const joined = await joining;
const bgRun = await client.runs.get(bgThreadId, bg.run_id);
const replayed = await collect(
  "replay",
  client.runs.joinStream(bgThreadId, bg.run_id, { lastEventId: "-1" }),
);

console.log("RESULT " + JSON.stringify({
  threadId, created, streamed, resumed, threadAfter,
  bgThreadId, bgRunId: bg.run_id, statusAtJoin, joined, bgRun, replayed,
}));
