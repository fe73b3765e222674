// Runs the seed document's JS example, statement for statement, against a
// Waypost server, with one of the two installed majors of the official SDK.
//
//   WAYPOST_URL=http://127.0.0.1:8123 node tests/js/seed.mjs sdk2   # @langchain/langgraph-sdk 2.0.0
//   WAYPOST_URL=http://127.0.0.1:8123 node tests/js/seed.mjs sdk1   # @langchain/langgraph-sdk 1.15.0
//
// The last line printed is `RESULT <json>` with {thread, first, second} for
// the pytest wrapper (tests/js/test_js_sdk.py) to check.

const pkg = process.argv[2];
if (pkg !== "sdk1" && pkg !== "sdk2") {
  console.error("usage: node seed.mjs sdk1|sdk2  (with WAYPOST_URL set)");
  process.exit(2);
}
const DEPLOYMENT_URL = process.env.WAYPOST_URL;
if (!DEPLOYMENT_URL) {
  console.error("WAYPOST_URL is not set");
  process.exit(2);
}

// The seed says `import { Client } from "@langchain/langgraph-sdk"`; here the
// package is installed under an npm alias per major, so it is imported by name.
const { Client } = await import(pkg);

// Remember what the example logs, so the resume result (which the seed only
// passes to console.log) can be reported without running it a second time.
const logged = [];
const realLog = console.log;
console.log = (...args) => {
  logged.push(args[0]);
  realLog(...args);
};

// ---- seed block, verbatim except for <DEPLOYMENT_URL> ----
const client = new Client({ apiUrl: DEPLOYMENT_URL });

// Using the graph deployed with the name "agent"
const assistantID = "agent";

// create a thread
const thread = await client.threads.create();
const threadID = thread["thread_id"];

// Run the graph until the interrupt is hit.
const result = await client.runs.wait(
  threadID,
  assistantID,
  { input: { "some_text": "original text" } }   // (1)!
);

console.log(result['__interrupt__']); // (2)!

// Resume the graph
console.log(await client.runs.wait(
    threadID,
    assistantID,
    { command: { resume: "Edited text" }}   // (3)!
));
// ---- end of seed block ----

console.log = realLog;
const second = logged[logged.length - 1];
console.log("RESULT " + JSON.stringify({ thread, first: result, second }));
