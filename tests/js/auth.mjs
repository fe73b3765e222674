// Authenticates the official JS SDK against a Waypost server, the two ways a JS user
// would: `apiKey` (sent as x-api-key) or `defaultHeaders` (a bearer token), then runs the
// `whoami` graph to its interrupt and answers it.
//
//   WAYPOST_URL=... WAYPOST_API_KEY=... node tests/js/auth.mjs sdk2
//   WAYPOST_URL=... WAYPOST_BEARER=... node tests/js/auth.mjs sdk1
//
// The last line printed is `RESULT <json>` with {identity, answer, without}, where
// `without` is the HTTP status a client without credentials gets.

const pkg = process.argv[2];
const { Client } = await import(pkg);
const apiUrl = process.env.WAYPOST_URL;

const options = process.env.WAYPOST_API_KEY
  ? { apiUrl, apiKey: process.env.WAYPOST_API_KEY }
  : { apiUrl, apiKey: null, defaultHeaders: { Authorization: `Bearer ${process.env.WAYPOST_BEARER}` } };
const client = new Client(options);

const thread = await client.threads.create();
const first = await client.runs.wait(thread.thread_id, "whoami", { input: {} });
const done = await client.runs.wait(thread.thread_id, "whoami", { command: { resume: "yes" } });

let without = null;
try {
  await new Client({ apiUrl, apiKey: null }).threads.create();
} catch (error) {
  without = Number(/HTTP (\d+)/.exec(String(error))?.[1] ?? -1);
}
console.log("RESULT " + JSON.stringify({ identity: first.identity, answer: done.answer, without }));
