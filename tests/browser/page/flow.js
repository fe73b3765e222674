// What the page does with the official JS SDK, from its own origin (tests/browser/site.py serves
// it on another port than Waypost's). The bare specifier resolves through the page's import map
// to the SDK 2.x files `make js` installed. tests/browser/drive.mjs calls the functions below
// and hands their results to the pytest test.
import { Client } from "@langchain/langgraph-sdk";

document.querySelector("#origin").textContent = `page origin: ${location.origin}`;

function show(text, kind = "ok") {
  const item = document.createElement("li");
  item.className = kind;
  item.textContent = text;
  document.querySelector("#steps").append(item);
}

// The seed's cycle (run to the interrupt, resume it), then listings and their pagination headers.
async function seedFlow({ apiUrl, apiKey }) {
  const client = new Client({ apiUrl, apiKey });
  const thread = await client.threads.create();
  const threadId = thread.thread_id;
  show(`thread ${threadId} created`);

  // The SDK finds each run's id in the Content-Location header: only an exposed header lets it.
  const runs = [];
  const onRunCreated = (run) => runs.push(run);
  const first = await client.runs.wait(threadId, "agent", { input: { some_text: "original text" }, onRunCreated });
  show(`interrupted, asking: ${JSON.stringify(first.__interrupt__?.[0]?.value)}`);
  const second = await client.runs.wait(threadId, "agent", { command: { resume: "Edited text" }, onRunCreated });
  show(`resumed, final values: ${JSON.stringify(second)}`);

  const listed = await client.threads.search({ limit: 1 });
  // SDK 2.0's threads.search returns the body only, so the same request is made with fetch and
  // the same headers to read X-Pagination-Total.
  const response = await fetch(`${apiUrl}/threads/search`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": apiKey },
    body: JSON.stringify({ limit: 1 }),
  });
  const total = response.headers.get("X-Pagination-Total");
  // assistants.search hands X-Pagination-Next over itself when asked to.
  const assistants = await client.assistants.search({ limit: 1, includePagination: true });
  show(`threads.search: ${listed.length} of X-Pagination-Total ${total}; assistants X-Pagination-Next ${assistants.next}`);
  return { threadId, first, second, runs, listed, total, next: assistants.next };
}

// One call and one attempt (no retries), reporting how it failed as the page sees it.
async function createThread({ apiUrl, apiKey, label }) {
  const client = new Client({ apiUrl, apiKey, callerOptions: { maxRetries: 0 } });
  try {
    const thread = await client.threads.create();
    show(`${label}: thread ${thread.thread_id} created`);
    return { ok: true };
  } catch (error) {
    show(`${label}: ${error.name}: ${error.message}`, "refused");
    return { ok: false, name: error.name, status: error.status ?? null, message: error.message };
  }
}

window.waypost = { seedFlow, createThread };
