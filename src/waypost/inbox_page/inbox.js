// The Waypost inbox page: lists the interrupts waiting for a person and answers them through
// the /interrupts API of the server that serves this page.
//
// Every piece of text that came from the server reaches the page as a text node or an
// attribute value (through h() below), never as markup: an interrupt's value is written by a
// graph, so it may contain anything.

const STORAGE_KEY = "waypost.inbox.credentials";
const PAGE_SIZE = 20;
const REFRESH_MS = 30_000; // the list follows new interrupts without a manual refresh
const TICK_MS = 15_000; // "due in 12 min" labels move on between refreshes
const JSON_SHOWN_MAX = 20_000; // a huge value is cut when shown, never when sent

// The API sits beside the page: /inbox -> /, and /prefix/inbox -> /prefix/ behind a proxy.
const API_BASE = new URL(location.pathname.replace(/\/inbox\/?$/, "/"), location.origin);

const state = {
  credentials: readCredentials(),
  filters: { status: "pending", graph_id: "", assignee: "", metadata: "", sort: "created_at:desc" },
  offset: 0,
  page: { interrupts: [], total: 0, totalExact: true },
  pageSignature: "",
  selected: null, // {threadId, interruptId} of the interrupt shown in the detail pane
  listToken: 0, // answers to superseded requests are dropped: only the latest one renders
  detailToken: 0,
  signingIn: false,
};

// --- small DOM helpers ---------------------------------------------------------------------

const $ = (selector, root = document) => root.querySelector(selector);
let lastId = 0;
const uid = (prefix) => `${prefix}-${++lastId}`;

/** An element with attributes (on* keys add listeners) and children (strings become text nodes). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

/** Replace an element's children (null and false leave no trace, as in h()). */
function setChildren(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

const truncate = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);
const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;
const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);

function compactJson(value) {
  try {
    return JSON.stringify(value) ?? "undefined";
  } catch {
    return String(value);
  }
}

function prettyJson(value) {
  const text = JSON.stringify(value, null, 2) ?? "null";
  return text.length > JSON_SHOWN_MAX ? `${text.slice(0, JSON_SHOWN_MAX)}\n… (${text.length} characters in all)` : text;
}

const jsonBlock = (value) => h("pre", { class: "json" }, prettyJson(value));

// --- time ------------------------------------------------------------------------------------

function span(ms) {
  const seconds = Math.round(Math.abs(ms) / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return minutes % 60 ? `${hours} h ${minutes % 60} min` : `${hours} h`;
  return `${Math.floor(hours / 24)} d`;
}

const ago = (iso) => `${span(Date.now() - Date.parse(iso))} ago`;

function fullTime(iso) {
  const when = new Date(iso);
  return Number.isNaN(when.getTime())
    ? String(iso)
    : when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

function deadlineState(iso) {
  const left = Date.parse(iso) - Date.now();
  if (left < 0) return { text: `overdue ${span(left)}`, urgency: "overdue" };
  return { text: `due in ${span(left)}`, urgency: left < 3_600_000 ? "soon" : "later" };
}

function timeEl(iso, text) {
  return h("time", { datetime: iso, title: fullTime(iso) }, text);
}

function deadlineTag(item) {
  if (!item.deadline || item.status !== "pending") return null;
  const { text, urgency } = deadlineState(item.deadline);
  return h(
    "span",
    { class: `tag deadline ${urgency}`, "data-deadline": item.deadline, title: `deadline ${fullTime(item.deadline)}` },
    text,
  );
}

const statusTag = (status) => h("span", { class: `tag status status-${status}` }, status);

/** Refresh every relative time on the page. */
function tick() {
  for (const el of document.querySelectorAll("[data-since]")) el.textContent = ago(el.dataset.since);
  for (const el of document.querySelectorAll("[data-deadline]")) {
    const { text, urgency } = deadlineState(el.dataset.deadline);
    el.textContent = text;
    el.classList.remove("overdue", "soon", "later");
    el.classList.add(urgency);
  }
}

// --- the API ---------------------------------------------------------------------------------

class HttpError extends Error {
  constructor(status, detail) {
    super(status ? `${status}: ${detail}` : detail);
    this.status = status;
    this.detail = detail;
  }
}

function readCredentials() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? "null");
    return saved && typeof saved.secret === "string" && saved.secret ? saved : null;
  } catch {
    return null;
  }
}

function saveCredentials(credentials) {
  state.credentials = credentials;
  if (credentials) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(credentials));
  else sessionStorage.removeItem(STORAGE_KEY);
  renderWho();
}

/** The server's reason, from {"detail": ...} whatever its form. */
function detailOf(body, text, response) {
  const detail = body && typeof body === "object" && "detail" in body ? body.detail : null;
  if (typeof detail === "string") return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((d) => (isObject(d) && d.msg ? `${(d.loc ?? []).join(".")}: ${d.msg}` : compactJson(d)))
      .join("; ");
  }
  if (detail !== null) return compactJson(detail);
  return text ? truncate(text, 300) : response.statusText || "no detail";
}

/** Call the API with the signed-in credentials; returns the parsed body or throws HttpError
 * (status 0 when the server could not be reached). A 401 also opens the sign-in panel. */
async function api(path, { method = "GET", query = {}, body } = {}) {
  const url = new URL(path, API_BASE);
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, String(value));
  }
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const credentials = state.credentials;
  if (credentials?.kind === "bearer") headers.Authorization = `Bearer ${credentials.secret}`;
  else if (credentials) headers["x-api-key"] = credentials.secret;
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit", // the page's own credentials only, never the browser's cookies
    });
  } catch (error) {
    throw new HttpError(0, `Could not reach the server (${error.message}).`);
  }
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!response.ok) {
    const detail = detailOf(parsed, text, response);
    if (response.status === 401) showSignIn(detail);
    throw new HttpError(response.status, detail);
  }
  return parsed;
}

const enc = encodeURIComponent;
const describe = (error) =>
  error instanceof HttpError
    ? error.status
      ? `The server answered ${error.status}: ${error.detail}`
      : error.detail
    : String(error?.message ?? error);

// --- sign-in ---------------------------------------------------------------------------------

function renderWho() {
  const who = $("#who");
  const signedIn = state.credentials !== null;
  who.textContent = signedIn
    ? `Signed in with ${state.credentials.kind === "bearer" ? "a bearer token" : "an API key"}`
    : "No credentials";
  $("#signout").hidden = !signedIn;
  $("#signin-open").hidden = signedIn || state.signingIn;
}

/** Show the sign-in panel: `reason` is the server's detail for a 401, null when the person
 * asked for it (then Cancel goes back). */
function showSignIn(reason, { voluntary = false } = {}) {
  const wasOpen = state.signingIn;
  state.signingIn = true;
  if (!voluntary && state.credentials) saveCredentials(null); // refused: no use sending it again
  $("#app").hidden = true;
  $("#signin").hidden = false;
  $("#signin-cancel").hidden = !voluntary;
  $("#signin-reason").textContent = reason ? `The server needs credentials: ${reason}` : "";
  renderWho();
  if (!wasOpen) $("#signin-secret").focus();
}

function showApp() {
  if (state.signingIn) return;
  $("#signin").hidden = true;
  $("#app").hidden = false;
}

async function signIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const secret = form.elements.secret.value.trim();
  if (!secret) {
    $("#signin-reason").textContent = "Enter an API key or a token.";
    form.elements.secret.focus();
    return;
  }
  saveCredentials({ kind: form.elements.kind.value === "bearer" ? "bearer" : "api-key", secret });
  form.elements.secret.value = "";
  state.signingIn = false;
  $("#signin-reason").textContent = "";
  renderWho();
  state.offset = 0;
  state.pageSignature = "";
  loadGraphs();
  await loadList();
  if (!state.signingIn) route({ focus: false });
}

function signOut() {
  saveCredentials(null);
  state.page = { interrupts: [], total: 0, totalExact: true };
  state.pageSignature = "";
  $("#items").replaceChildren();
  // what the last person saw is not left behind in the page for the next one
  state.selected = null;
  state.detailToken++;
  setChildren($("#detail-pane"), h("p", { class: "placeholder" }, "Choose an interrupt to answer it."));
  showSignIn(null, { voluntary: true });
}

// --- the list --------------------------------------------------------------------------------

const isHitlRequest = (v) => isObject(v) && Array.isArray(v.action_requests) && v.action_requests.every(isObject);
const isAgentInbox = (v) =>
  Array.isArray(v) &&
  v.length > 0 &&
  v.every(
    (r) =>
      isObject(r) && isObject(r.action_request) && typeof r.action_request.action === "string" && isObject(r.config),
  );
const isToolApproval = (v) => isObject(v) && v.type === "tool_approval" && typeof v.name === "string";

/** The question a plain interrupt asks: the value if it is text, else its question-like field. */
function questionText(value) {
  if (typeof value === "string") return value;
  if (isObject(value)) {
    for (const key of ["question", "message", "description"]) if (typeof value[key] === "string") return value[key];
  }
  return null;
}

function summary(item) {
  const v = item.value;
  if (isHitlRequest(v)) {
    const names = v.action_requests.map((a) => a.name ?? "?").join(", ");
    return `Review ${plural(v.action_requests.length, "action")}: ${names}`;
  }
  if (isAgentInbox(v)) return v.map((r) => r.description || r.action_request.action).join(" · ");
  if (isToolApproval(v)) return v.description || `Approve ${v.name}`;
  const text = questionText(v);
  if (text !== null) return text;
  // a flat object reads better as "key: value" pairs than as JSON
  if (isObject(v) && Object.keys(v).length && Object.values(v).every((x) => x === null || typeof x !== "object")) {
    return Object.entries(v)
      .map(([key, x]) => `${key}: ${typeof x === "string" ? x : compactJson(x)}`)
      .join(" · ");
  }
  return compactJson(v);
}

const routeFor = (threadId, interruptId) => `#/interrupts/${enc(threadId)}/${enc(interruptId)}`;
const isSelected = (item) =>
  state.selected !== null &&
  state.selected.interruptId === item.interrupt_id &&
  (state.selected.threadId === null || state.selected.threadId === item.thread_id);

function itemRow(item) {
  const assignees = Array.isArray(item.assignees) ? item.assignees : [];
  return h(
    "li",
    {},
    h(
      "a",
      {
        href: routeFor(item.thread_id, item.interrupt_id),
        class: "item",
        "aria-current": isSelected(item) ? "true" : null,
        "data-interrupt-id": item.interrupt_id,
        "data-thread-id": item.thread_id,
        "data-graph": item.graph_id ?? "",
      },
      h("span", { class: "item-title" }, truncate(summary(item), 160)),
      h(
        "span",
        { class: "item-meta" },
        h("span", { class: "tag graph" }, item.graph_id ?? "unknown graph"),
        assignees.length ? h("span", { class: "assignees" }, `for ${assignees.join(", ")}`) : null,
        h(
          "time",
          { datetime: item.created_at, title: fullTime(item.created_at), "data-since": item.created_at },
          ago(item.created_at),
        ),
        deadlineTag(item),
        statusTag(item.status),
      ),
    ),
  );
}

function renderList() {
  const { interrupts, total, totalExact } = state.page;
  const list = $("#items");
  // a refresh must not throw the keyboard user's focus away
  const focused = document.activeElement?.closest?.("#items a")?.getAttribute("href");
  list.replaceChildren(...interrupts.map(itemRow));
  if (focused) [...list.querySelectorAll("a")].find((a) => a.getAttribute("href") === focused)?.focus();
  const status = state.filters.status;
  const what = status === "any" ? "interrupts" : `${status} interrupts`;
  $("#list-status").textContent =
    total === 0
      ? `No ${what} match.`
      : `${state.offset + 1}–${state.offset + interrupts.length} of ${totalExact ? "" : "more than "}${total} ${what}`;
  $("#prev").disabled = state.offset === 0;
  $("#next").disabled = state.offset + interrupts.length >= total;
  addGraphs(interrupts.map((i) => i.graph_id));
}

function markSelected() {
  for (const a of document.querySelectorAll("#items a")) {
    const chosen =
      state.selected !== null &&
      a.dataset.interruptId === state.selected.interruptId &&
      (state.selected.threadId === null || a.dataset.threadId === state.selected.threadId);
    if (chosen) a.setAttribute("aria-current", "true");
    else a.removeAttribute("aria-current");
  }
}

/** Load the current page of the list; true when it loaded. */
async function loadList() {
  const token = ++state.listToken;
  const list = $("#items");
  list.setAttribute("aria-busy", "true");
  const [sortBy, sortOrder] = state.filters.sort.split(":");
  const { status, graph_id, assignee, metadata } = state.filters;
  try {
    const page = await api("interrupts", {
      query: {
        status,
        graph_id,
        assignee,
        metadata,
        sort_by: sortBy,
        sort_order: sortOrder,
        limit: PAGE_SIZE,
        offset: state.offset,
      },
    });
    if (token !== state.listToken) return false;
    showApp();
    $("#filters-error").textContent = "";
    const signature = JSON.stringify([state.filters, state.offset, page]);
    if (signature !== state.pageSignature) {
      state.page = {
        interrupts: Array.isArray(page?.interrupts) ? page.interrupts : [],
        total: page?.total ?? 0,
        totalExact: page?.total_exact !== false,
      };
      state.pageSignature = signature;
      renderList();
    }
    return true;
  } catch (error) {
    if (token !== state.listToken || error.status === 401) return false;
    showApp();
    if (error.status === 422) $("#filters-error").textContent = `The server refused these filters: ${error.detail}`;
    else $("#list-status").textContent = `The list could not be loaded. ${describe(error)}`;
    return false;
  } finally {
    if (token === state.listToken) list.setAttribute("aria-busy", "false");
  }
}

function addGraphs(ids) {
  const select = $("#filters").elements.graph_id;
  const have = new Set([...select.options].map((o) => o.value));
  const fresh = [...new Set(ids.filter((id) => typeof id === "string" && id && !have.has(id)))];
  if (!fresh.length) return;
  const chosen = select.value;
  const all = [...have, ...fresh].filter((id) => id !== "").sort();
  select.replaceChildren(h("option", { value: "" }, "All graphs"), ...all.map((id) => h("option", { value: id }, id)));
  select.value = chosen;
}

/** The graphs the server serves, for the graph filter (the list adds any others it meets). */
async function loadGraphs() {
  try {
    const assistants = await api("assistants/search", { method: "POST", body: { limit: 100 } });
    if (Array.isArray(assistants)) addGraphs(assistants.map((a) => a?.graph_id));
  } catch {
    // the filter still offers the graphs of the interrupts listed
  }
}

function applyFilters(event) {
  event?.preventDefault();
  const form = $("#filters");
  const metadata = form.elements.metadata.value.trim();
  if (metadata) {
    let parsed;
    try {
      parsed = JSON.parse(metadata);
    } catch (error) {
      parsed = error;
    }
    if (!isObject(parsed)) {
      $("#filters-error").textContent = 'Thread metadata must be a JSON object, e.g. {"team": "ops"}.';
      form.elements.metadata.focus();
      return;
    }
  }
  state.filters = {
    status: form.elements.status.value,
    graph_id: form.elements.graph_id.value,
    assignee: form.elements.assignee.value.trim(),
    metadata,
    sort: form.elements.sort.value,
  };
  state.offset = 0;
  $("#filters-error").textContent = "";
  loadList();
}

// --- JSON Schema forms -------------------------------------------------------------------------

class FieldError extends Error {
  constructor(message, input) {
    super(message);
    this.input = input;
  }
}

/** Follow local $refs ("#/$defs/X") and unwrap a single allOf, as pydantic writes them. */
function resolve(schema, root) {
  let s = schema === true || schema === undefined || schema === null ? {} : schema;
  for (let hops = 0; isObject(s) && typeof s.$ref === "string" && hops < 20; hops++) {
    const target = pointer(root, s.$ref);
    if (!isObject(target)) break;
    const { $ref: _ref, ...rest } = s;
    s = { ...target, ...rest };
  }
  if (isObject(s) && Array.isArray(s.allOf) && s.allOf.length === 1) {
    const { allOf, ...rest } = s;
    s = { ...resolve(allOf[0], root), ...rest };
  }
  return isObject(s) ? s : {};
}

function pointer(root, ref) {
  if (!ref.startsWith("#")) return undefined;
  let node = root;
  for (const raw of ref.slice(1).split("/").filter(Boolean)) {
    const key = decodeURIComponent(raw).replaceAll("~1", "/").replaceAll("~0", "~");
    if (node === null || typeof node !== "object") return undefined;
    node = node[key];
  }
  return node;
}

/** What kind of field a schema becomes; anyOf [X, null] (an optional X) becomes X's. */
function normalize(schema, root) {
  let s = resolve(schema, root);
  const alternatives = s.anyOf ?? s.oneOf;
  if (Array.isArray(alternatives)) {
    const branches = alternatives.map((a) => resolve(a, root));
    const choices = branches.filter((b) => b.type !== "null");
    if (branches.length && branches.every((b) => "const" in b || Array.isArray(b.enum) || b.type === "null")) {
      const options = choices.flatMap((b) =>
        "const" in b ? [{ value: b.const, label: b.title }] : b.enum.map((v) => ({ value: v })),
      );
      return { s, kind: "enum", options };
    }
    if (choices.length === 1) {
      const { anyOf: _a, oneOf: _o, ...own } = s;
      s = { ...choices[0], ...own };
    } else {
      return { s, kind: "json" };
    }
  }
  if ("const" in s) return { s, kind: "const" };
  if (Array.isArray(s.enum) && s.enum.length) return { s, kind: "enum", options: s.enum.map((v) => ({ value: v })) };
  let type = s.type;
  if (Array.isArray(type)) {
    const real = type.filter((t) => t !== "null");
    type = real.length === 1 ? real[0] : undefined;
  }
  if (type === "object" && isObject(s.properties) && Object.keys(s.properties).length) return { s, kind: "object" };
  if (type === "array" && !Array.isArray(s.items) && s.prefixItems === undefined) return { s, kind: "array" };
  if (["string", "number", "integer", "boolean"].includes(type)) return { s, kind: type };
  return { s, kind: "json" };
}

/** A schema for editing a value that came without one (an action's args): its own shape. */
function inferSchema(value) {
  if (typeof value === "string") return { type: "string" };
  if (typeof value === "number") return { type: "number" };
  if (typeof value === "boolean") return { type: "boolean" };
  if (isObject(value)) {
    return {
      type: "object",
      properties: Object.fromEntries(Object.entries(value).map(([k, v]) => [k, inferSchema(v)])),
    };
  }
  return {}; // arrays, null: edited as JSON
}

const requiredMark = () => h("abbr", { class: "required", title: "required" }, "*");

function hintFor(s) {
  return typeof s.description === "string" && s.description
    ? h("span", { class: "hint", id: uid("hint") }, s.description)
    : null;
}

/**
 * One field of a generated form: {element, read, label}. read() gives the value to send, or
 * undefined to leave an optional key out; it throws FieldError for input it cannot turn into
 * JSON. What fits the schema is the server's to judge: its 422 says what is wrong.
 */
function schemaField(schema, { root, label, path, required, value, top = false }) {
  const { s, kind, options } = normalize(schema, root);
  const initial = value !== undefined ? value : s.default;
  const title = typeof s.title === "string" && s.title ? s.title : label;
  const dataPath = path.join(".");
  const id = uid("field");
  const hint = hintFor(s);
  const common = {
    id,
    name: dataPath || "answer",
    "data-path": dataPath,
    "aria-required": required ? "true" : null,
    "aria-describedby": hint?.id,
  };
  const labelEl = (text = title) => h("label", { for: id }, text, required && !top ? requiredMark() : null);

  if (kind === "object") return objectField(s, { root, title, path, required, initial, top, hint });
  if (kind === "array") return arrayField(s, { root, title, path, required, initial, hint });

  if (kind === "const") {
    return {
      element: h("p", { class: "field const" }, `${title}: `, h("code", {}, compactJson(s.const))),
      read: () => s.const,
    };
  }

  if (kind === "boolean") {
    const box = h("input", { ...common, type: "checkbox" });
    box.checked = initial === true;
    return { element: h("div", { class: "field check" }, box, labelEl(), hint), read: () => box.checked, input: box };
  }

  if (kind === "enum") {
    const select = h(
      "select",
      common,
      h("option", { value: "" }, "— choose —"),
      options.map((o, index) =>
        h(
          "option",
          { value: String(index) },
          o.label ?? (typeof o.value === "string" ? o.value : compactJson(o.value)),
        ),
      ),
    );
    const at = options.findIndex((o) => compactJson(o.value) === compactJson(initial));
    select.value = at >= 0 ? String(at) : "";
    const read = () => (select.value === "" ? undefined : options[Number(select.value)].value);
    return { element: h("div", { class: "field" }, labelEl(), hint, select), read, input: select };
  }

  if (kind === "number" || kind === "integer") {
    const input = h("input", {
      ...common,
      type: "number",
      inputmode: kind === "integer" ? "numeric" : "decimal",
      step: kind === "integer" ? "1" : "any",
      min: s.minimum,
      max: s.maximum,
    });
    if (typeof initial === "number") input.value = String(initial);
    const read = () => {
      const text = input.value.trim();
      if (text === "") {
        if (input.validity.badInput) throw new FieldError(`${title}: not a number.`, input);
        return undefined;
      }
      return Number(text);
    };
    return { element: h("div", { class: "field" }, labelEl(), hint, input), read, input };
  }

  if (kind === "string") {
    const long =
      s.format === "textarea" ||
      (s.maxLength ?? 0) > 200 ||
      (typeof initial === "string" && (initial.length > 80 || initial.includes("\n")));
    const input = long
      ? h("textarea", { ...common, rows: 3 })
      : h("input", {
          ...common,
          type: s.format === "email" ? "email" : s.format === "uri" ? "url" : "text",
          autocomplete: "off",
        });
    input.value = typeof initial === "string" ? initial : "";
    const read = () => (input.value === "" && !required ? undefined : input.value);
    return { element: h("div", { class: "field" }, labelEl(), hint, input), read, input };
  }

  // anything else (no type, several types, free-form objects): JSON of its own
  const area = h("textarea", { ...common, rows: 3, class: "json", spellcheck: "false" });
  area.value = initial === undefined ? "" : JSON.stringify(initial, null, 2);
  const read = () => {
    const text = area.value.trim();
    if (text === "") return undefined;
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new FieldError(`${title}: not valid JSON (${error.message}).`, area);
    }
  };
  return { element: h("div", { class: "field" }, labelEl(`${title} (JSON)`), hint, area), read, input: area };
}

function objectField(s, { root, title, path, required, initial, top, hint }) {
  const given = isObject(initial) ? initial : {};
  const needed = new Set(Array.isArray(s.required) ? s.required : []);
  const fields = Object.entries(s.properties).map(([key, sub]) => [
    key,
    schemaField(sub, { root, label: key, path: [...path, key], required: needed.has(key), value: given[key] }),
  ]);
  const element = h(
    "fieldset",
    { class: top ? "object top" : "object", "data-path": path.join(".") },
    h("legend", {}, title, required && !top ? requiredMark() : null),
    hint,
    fields.map(([, field]) => field.element),
  );
  const read = () => {
    // keys the schema does not name (an action's extra args) are kept as they came
    const out = Object.fromEntries(Object.entries(given).filter(([key]) => !(key in s.properties)));
    for (const [key, field] of fields) {
      const v = field.read();
      if (v !== undefined) out[key] = v;
    }
    return !top && !required && Object.keys(out).length === 0 ? undefined : out;
  };
  return { element, read, input: fields[0]?.[1].input };
}

function arrayField(s, { root, title, path, required, initial, hint }) {
  const rows = h("ol", { class: "rows" });
  const entries = [];
  const itemTitle = resolve(s.items, root).title ?? "item";
  const renumber = () =>
    entries.forEach((entry, index) => {
      entry.remove.setAttribute("aria-label", `Remove ${itemTitle} ${index + 1}`);
    });
  const add = (value) => {
    // an empty row is left out rather than sent as ""
    const field = schemaField(s.items ?? {}, {
      root,
      label: `${itemTitle} ${entries.length + 1}`,
      path: [...path, String(entries.length)],
      required: false,
      value,
    });
    const entry = { field, remove: null, row: null };
    entry.remove = h(
      "button",
      {
        type: "button",
        class: "quiet small",
        onclick: () => {
          entries.splice(entries.indexOf(entry), 1);
          entry.row.remove();
          renumber();
          addButton.focus();
        },
      },
      "Remove",
    );
    entry.row = h("li", {}, field.element, entry.remove);
    entries.push(entry);
    rows.append(entry.row);
    renumber();
    return field;
  };
  const addButton = h(
    "button",
    { type: "button", class: "quiet small", onclick: () => add(undefined).input?.focus() },
    `Add ${itemTitle}`,
  );
  for (const value of Array.isArray(initial) ? initial : []) add(value);
  const element = h(
    "fieldset",
    { class: "array", "data-path": path.join(".") },
    h("legend", {}, title, required ? requiredMark() : null),
    hint,
    rows,
    addButton,
  );
  const read = () => {
    const out = entries.map((e) => e.field.read()).filter((v) => v !== undefined);
    return out.length === 0 && !required ? undefined : out;
  };
  return { element, read, input: addButton };
}

// --- answering: cards for action requests, forms, JSON ------------------------------------------

const DECISION_LABELS = {
  approve: "Approve",
  edit: "Edit",
  reject: "Reject",
  respond: "Respond",
  accept: "Accept",
  response: "Respond",
  ignore: "Ignore",
};

/**
 * One action to decide on: its name, description and args (editable once Edit is chosen), and
 * a choice among the decisions allowed. choices: [{type, edits, message: "none" | "optional" |
 * "required", messageLabel}]. read() gives {type, args?, message?}.
 */
function actionCard({ index, name, description, args, argsSchema, choices }) {
  const schema = isObject(argsSchema) && Object.keys(argsSchema).length ? argsSchema : inferSchema(args ?? {});
  const argsField = schemaField(schema, {
    root: schema,
    label: "Arguments",
    path: [],
    required: true,
    value: args,
    top: true,
  });
  const argsBox = h("fieldset", { class: "args-box", disabled: true }, argsField.element);
  const messageId = uid("message");
  const message = h("textarea", { id: messageId, rows: 2, class: "decision-message" });
  const messageLabel = h("label", { for: messageId });
  const messageBox = h("div", { class: "field", hidden: true }, messageLabel, message);
  const group = uid("decision");
  const radios = choices.map((choice) => {
    const radio = h("input", { type: "radio", name: group, value: choice.type });
    radio.addEventListener("change", () => {
      argsBox.disabled = !choice.edits;
      messageBox.hidden = choice.message === "none";
      messageLabel.textContent = choice.messageLabel ?? "Message";
      card.dataset.decision = choice.type;
      if (choice.edits) argsField.input?.focus();
    });
    return { radio, choice };
  });
  const card = h(
    "section",
    { class: "card", "data-index": String(index), "data-action": name, "aria-label": `Action ${index + 1}: ${name}` },
    h("h4", {}, `${index + 1}. `, h("code", {}, name)),
    description ? h("p", { class: "description" }, description) : null,
    argsBox,
    h(
      "fieldset",
      { class: "decisions" },
      h("legend", {}, `Decision for ${name}`),
      radios.map(({ radio, choice }) =>
        h("label", { class: `choice choice-${choice.type}` }, radio, DECISION_LABELS[choice.type] ?? choice.type),
      ),
      choices.length === 0 ? h("p", { class: "error" }, "No decision is allowed for this action.") : null,
    ),
    messageBox,
  );
  const read = () => {
    const chosen = radios.find(({ radio }) => radio.checked)?.choice;
    if (!chosen) throw new FieldError(`Choose a decision for action ${index + 1} (${name}).`, radios[0]?.radio);
    const decision = { type: chosen.type };
    if (chosen.edits) decision.args = argsField.read() ?? {};
    if (chosen.message !== "none") {
      if (chosen.message === "required" && message.value.trim() === "") {
        throw new FieldError(
          `Write the ${chosen.messageLabel.toLowerCase()} for action ${index + 1} (${name}).`,
          message,
        );
      }
      decision.message = message.value;
    }
    return decision;
  };
  return { element: card, read };
}

function cardsUi(cards, toValue) {
  return {
    element: h(
      "div",
      { class: "cards" },
      cards.map((c) => c.element),
    ),
    read: () => toValue(cards.map((c) => c.read())),
  };
}

const HITL_CHOICES = {
  approve: { edits: false, message: "none" },
  edit: { edits: true, message: "none" },
  reject: { edits: false, message: "optional", messageLabel: "Reason (optional, the agent sees it)" },
  respond: { edits: false, message: "required", messageLabel: "Response to the agent" },
};

function hitlChoices(allowed) {
  return allowed.filter((type) => type in HITL_CHOICES).map((type) => ({ type, ...HITL_CHOICES[type] }));
}

function hitlDecision(name, d) {
  if (d.type === "edit") return { type: "edit", edited_action: { name, args: d.args } };
  if (d.type === "reject") return d.message ? { type: "reject", message: d.message } : { type: "reject" };
  if (d.type === "respond") return { type: "respond", message: d.message };
  return { type: d.type };
}

/** langchain's HumanInTheLoopMiddleware: one decision per action request, in order. */
function hitlUi(item) {
  const v = item.value;
  const configs = new Map(
    (Array.isArray(v.review_configs) ? v.review_configs : []).filter(isObject).map((c) => [c.action_name, c]),
  );
  const requests = v.action_requests;
  const cards = requests.map((request, index) => {
    const config = configs.get(request.name);
    // without a review config the server is left to say which decisions it takes
    const allowed = Array.isArray(config?.allowed_decisions) ? config.allowed_decisions : Object.keys(HITL_CHOICES);
    return actionCard({
      index,
      name: String(request.name ?? "?"),
      description: typeof request.description === "string" ? request.description : null,
      args: isObject(request.args) ? request.args : {},
      argsSchema: config?.args_schema,
      choices: hitlChoices(allowed),
    });
  });
  return cardsUi(cards, (decisions) => ({ decisions: decisions.map((d, i) => hitlDecision(requests[i].name, d)) }));
}

/** The decision types a per-call tool approval's response_schema allows, and its args schema. */
function toolApprovalSchema(schema) {
  const root = schema;
  const top = resolve(schema, root);
  const branches = (top.oneOf ?? top.anyOf ?? [top]).map((b) => resolve(b, root));
  const types = [];
  let argsSchema = null;
  for (const branch of branches) {
    const type = resolve(branch.properties?.type, root);
    const name =
      "const" in type ? type.const : Array.isArray(type.enum) && type.enum.length === 1 ? type.enum[0] : null;
    if (typeof name !== "string") continue;
    types.push(name);
    if (name === "edit") {
      const action = resolve(branch.properties?.edited_action, root);
      const args = action.properties?.args;
      if (args) argsSchema = { ...resolve(args, root), $defs: root.$defs, definitions: root.definitions };
    }
  }
  return { types, argsSchema };
}

/** langchain's per-call mode: one tool call, answered with one decision. */
function toolApprovalUi(item) {
  const v = item.value;
  const { types, argsSchema } = isObject(item.response_schema)
    ? toolApprovalSchema(item.response_schema)
    : { types: [], argsSchema: null };
  const card = actionCard({
    index: 0,
    name: v.name,
    description: typeof v.description === "string" ? v.description : null,
    args: isObject(v.args) ? v.args : {},
    argsSchema: argsSchema && normalize(argsSchema, argsSchema).kind === "object" ? argsSchema : null,
    choices: hitlChoices(types.length ? types : Object.keys(HITL_CHOICES)),
  });
  return cardsUi([card], ([d]) => hitlDecision(v.name, d));
}

/** Agent Inbox's HumanInterrupt list: one HumanResponse per request. */
function agentInboxUi(item) {
  const requests = item.value;
  const cards = requests.map((request, index) => {
    const config = request.config;
    const choices = [];
    if (config.allow_accept) choices.push({ type: "accept", edits: false, message: "none" });
    if (config.allow_edit) choices.push({ type: "edit", edits: true, message: "none" });
    if (config.allow_respond)
      choices.push({ type: "response", edits: false, message: "required", messageLabel: "Your response" });
    if (config.allow_ignore) choices.push({ type: "ignore", edits: false, message: "none" });
    return actionCard({
      index,
      name: request.action_request.action,
      description: typeof request.description === "string" ? request.description : null,
      args: isObject(request.action_request.args) ? request.action_request.args : {},
      argsSchema: null,
      choices,
    });
  });
  return cardsUi(cards, (decisions) =>
    decisions.map((d, i) => {
      if (d.type === "edit") return { type: "edit", args: { action: requests[i].action_request.action, args: d.args } };
      if (d.type === "response") return { type: "response", args: d.message };
      return { type: d.type, args: null };
    }),
  );
}

/** A form generated from the interrupt's response_schema. */
function schemaUi(item) {
  const root = item.response_schema;
  const field = schemaField(root, { root, label: "Answer", path: [], required: true, value: undefined, top: true });
  return { element: h("div", { class: "schema-form" }, field.element), read: () => field.read() };
}

/** A JSON text box (checked to be JSON before anything is sent); `allowText` offers sending
 * the text as it is, for the many graphs that expect a plain string. */
function jsonUi({ allowText }) {
  const id = uid("answer-json");
  const hintId = uid("hint");
  const area = h("textarea", {
    id,
    class: "json",
    rows: 6,
    spellcheck: "false",
    "aria-describedby": hintId,
    "data-path": "json",
  });
  let asText = false;
  const hint = h("p", { class: "hint", id: hintId });
  const setHint = () => {
    hint.textContent = asText
      ? "Sent as a string, exactly as written."
      : 'JSON, e.g. "yes", true, 42 or {"approved": true}.';
  };
  setHint();
  const group = uid("format");
  const formats = allowText
    ? h(
        "fieldset",
        { class: "formats" },
        h("legend", {}, "Send the answer as"),
        ["json", "text"].map((format) => {
          const radio = h("input", { type: "radio", name: group, value: format, checked: format === "json" });
          radio.addEventListener("change", () => {
            asText = format === "text";
            setHint();
          });
          return h("label", { class: "choice" }, radio, format === "json" ? "JSON" : "Plain text");
        }),
      )
    : null;
  const element = h("div", { class: "json-answer" }, formats, h("label", { for: id }, "Answer"), area, hint);
  const read = () => {
    if (asText) return area.value;
    const text = area.value.trim();
    if (text === "")
      throw new FieldError('Write an answer as JSON: for example "yes", true or {"approved": true}.', area);
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new FieldError(`The answer is not valid JSON: ${error.message}`, area);
    }
  };
  const setValue = (value) => {
    area.value = value === undefined ? "" : JSON.stringify(value, null, 2);
  };
  return { element, read, setValue, area };
}

function answerKind(item) {
  const v = item.value;
  if (isHitlRequest(v)) return "hitl";
  if (isAgentInbox(v)) return "agent-inbox";
  if (isToolApproval(v)) return "tool-approval";
  if (isObject(item.response_schema)) return "schema";
  return "json";
}

const STRUCTURED = { hitl: hitlUi, "agent-inbox": agentInboxUi, "tool-approval": toolApprovalUi, schema: schemaUi };

function answerForm(item) {
  const kind = answerKind(item);
  const structured = kind in STRUCTURED ? STRUCTURED[kind](item) : null;
  const json = jsonUi({ allowText: structured === null });
  let useJson = structured === null;
  const errorBox = h("p", { class: "error answer-error", id: uid("answer-error"), role: "alert" });
  const commentId = uid("comment");
  const comment = h("textarea", { id: commentId, name: "comment", rows: 2, maxlength: 10000 });
  const submit = h("button", { type: "submit", class: "primary" }, "Send answer");

  const jsonBox = h("div", { class: "json-box", hidden: !useJson }, json.element);
  let toggle = null;
  if (structured) {
    const box = h("input", { type: "checkbox", class: "as-json" });
    box.addEventListener("change", () => {
      useJson = box.checked;
      if (useJson) {
        try {
          json.setValue(structured.read()); // start from what the form holds
        } catch {
          json.setValue(undefined);
        }
      }
      structured.element.hidden = useJson;
      jsonBox.hidden = !useJson;
      errorBox.textContent = "";
      (useJson ? json.area : box).focus();
    });
    toggle = h("label", { class: "toggle" }, box, "Write the answer as JSON");
  }

  const form = h(
    "form",
    { class: "answer", novalidate: true, "aria-describedby": errorBox.id, "aria-labelledby": "answer-title" },
    h("h3", { id: "answer-title" }, "Your answer"),
    kind === "schema"
      ? h("p", { class: "hint" }, "Fields marked * are required; the server checks the answer against its schema.")
      : null,
    structured?.element,
    jsonBox,
    toggle,
    h("label", { for: commentId }, "Comment ", h("span", { class: "hint" }, "(optional, kept in the audit log)")),
    comment,
    errorBox,
    h(
      "div",
      { class: "actions" },
      submit,
      h("span", { class: "hint" }, "Enter sends the answer; Ctrl+Enter from a text box."),
    ),
  );
  form.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (submit.disabled) return;
    errorBox.textContent = "";
    let value;
    try {
      value = useJson ? json.read() : structured.read();
    } catch (error) {
      if (!(error instanceof FieldError)) throw error;
      errorBox.textContent = error.message;
      error.input?.focus();
      return;
    }
    const body = { value };
    if (comment.value.trim()) body.comment = comment.value.trim();
    submit.disabled = true;
    submit.textContent = "Sending…";
    form.setAttribute("aria-busy", "true");
    try {
      await sendAnswer(item, body, errorBox);
    } finally {
      submit.disabled = false;
      submit.textContent = "Send answer";
      form.removeAttribute("aria-busy");
    }
  });
  return form;
}

const CLOSED_TITLES = {
  answered: "Someone else answered this first.",
  expired: "This interrupt expired before your answer arrived.",
  superseded: "The thread moved on: this interrupt no longer waits for an answer.",
};

async function sendAnswer(item, body, errorBox) {
  let run;
  try {
    run = await api(`interrupts/${enc(item.interrupt_id)}/answer`, {
      method: "POST",
      query: { thread_id: item.thread_id },
      body,
    });
  } catch (error) {
    if (error.status === 401) return; // the sign-in panel is up
    if (error.status === 422) {
      // the answer does not fit: say why next to the form, and leave everything else as it is
      errorBox.textContent = `The server refused this answer: ${error.detail}`;
      return;
    }
    if (error.status === 409 || error.status === 404) {
      // Answered, expired or gone meanwhile: show it as it is now. Still pending (the 409 was
      // about something else): keep the form and what the person entered.
      let fresh = null;
      try {
        fresh = await api(`interrupts/${enc(item.interrupt_id)}`, { query: { thread_id: item.thread_id } });
      } catch (again) {
        if (again.status === 401) return;
      }
      if (fresh?.status === "pending") {
        errorBox.textContent = `The server refused this answer: ${error.detail}`;
        return;
      }
      await openDetail(item.thread_id, item.interrupt_id, {
        notice: (now) => ({
          kind: "conflict",
          title: CLOSED_TITLES[now.status] ?? "This interrupt no longer waits for an answer.",
          text: error.detail,
        }),
      });
      loadList();
      return;
    }
    errorBox.textContent = describe(error);
    return;
  }
  await openDetail(item.thread_id, item.interrupt_id, {
    focus: true,
    notice: () => ({
      kind: "success",
      title: "Answer sent.",
      text: `Run ${run.run_id} started (${run.status}).`,
      runId: run.run_id,
    }),
  });
  loadList();
}

// --- the detail pane -------------------------------------------------------------------------------

function fact(term, ...definition) {
  return [h("dt", {}, term), h("dd", {}, ...definition)];
}

function noticeEl({ kind, title, text, runId }) {
  return h(
    "div",
    { class: `notice ${kind}`, role: kind === "success" ? "status" : "alert", tabindex: "-1", "data-run-id": runId },
    h("strong", {}, title),
    text ? h("span", {}, " ", text) : null,
  );
}

function questionView(item) {
  const v = item.value;
  const special = isHitlRequest(v) || isAgentInbox(v) || isToolApproval(v);
  if (special) {
    // the title says what is asked and the cards show each action: the raw request is extra
    return h("details", { class: "raw" }, h("summary", {}, "The whole request (JSON)"), jsonBlock(v));
  }
  const text = questionText(v);
  return h(
    "section",
    { class: "question", "aria-labelledby": "question-title" },
    h("h3", { id: "question-title" }, "Question"),
    text !== null ? h("p", { class: "question-text" }, text) : jsonBlock(v),
    typeof v === "string" || text === null
      ? null
      : h("details", { class: "raw" }, h("summary", {}, "The whole value (JSON)"), jsonBlock(v)),
  );
}

function closedView(item) {
  if (item.status === "answered") {
    return h(
      "p",
      { class: "closed" },
      "Answered",
      item.answered_at ? [" ", timeEl(item.answered_at, fullTime(item.answered_at))] : null,
      item.answered_by ? ` by ${item.answered_by}` : null,
      item.answered_by_run ? [" (run ", h("code", {}, item.answered_by_run), ")"] : null,
      ".",
    );
  }
  if (item.status === "expired") {
    return h(
      "p",
      { class: "closed" },
      "Expired",
      item.expired_at ? [" ", timeEl(item.expired_at, fullTime(item.expired_at))] : null,
      ": its deadline passed.",
    );
  }
  return h(
    "p",
    { class: "closed" },
    `This interrupt is ${item.status}: new input reached the thread, so it no longer waits for an answer.`,
  );
}

function messageText(m) {
  if (typeof m?.content === "string") return m.content;
  if (Array.isArray(m?.content))
    return m.content.map((p) => (typeof p === "string" ? p : typeof p?.text === "string" ? p.text : "")).join(" ");
  return "";
}

function valuesView(values) {
  if (!isObject(values) || Object.keys(values).length === 0)
    return h("p", { class: "hint" }, "The thread has no values yet.");
  const messages = Array.isArray(values.messages) ? values.messages.slice(-6) : null;
  return [
    messages?.length
      ? h(
          "ol",
          { class: "transcript", "aria-label": "Latest messages" },
          messages.map((m) => {
            const calls = Array.isArray(m?.tool_calls) ? m.tool_calls.map((c) => c?.name).filter(Boolean) : [];
            return h(
              "li",
              {},
              h("span", { class: "role" }, String(m?.type ?? m?.role ?? "message")),
              " ",
              truncate(messageText(m), 600),
              calls.length ? h("span", { class: "hint" }, ` (calls ${calls.join(", ")})`) : null,
            );
          }),
        )
      : null,
    messages?.length ? h("details", {}, h("summary", {}, "All values (JSON)"), jsonBlock(values)) : jsonBlock(values),
  ];
}

function historyEntry(entry) {
  const detail = isObject(entry.detail) ? entry.detail : {};
  const { value, comment, via, ...rest } = detail;
  return h(
    "li",
    {},
    timeEl(entry.at, fullTime(entry.at)),
    " ",
    h("strong", {}, `${entry.event} ${entry.outcome}`),
    entry.identity ? ` by ${entry.identity}` : null,
    via ? ` via ${via}` : null,
    entry.run_id ? [" · run ", h("code", {}, entry.run_id)] : null,
    entry.reason ? h("div", { class: "reason" }, entry.reason) : null,
    typeof comment === "string" && comment ? h("div", { class: "comment" }, `“${comment}”`) : null,
    "value" in detail ? h("div", {}, "Answer: ", h("code", {}, truncate(compactJson(value), 300))) : null,
    Object.keys(rest).length ? h("div", { class: "hint" }, truncate(compactJson(rest), 300)) : null,
  );
}

async function fill(container, load, render, token) {
  try {
    const body = await load();
    if (token === state.detailToken) setChildren(container, render(body));
  } catch (error) {
    if (token === state.detailToken && error.status !== 401)
      setChildren(container, h("p", { class: "hint" }, `Not available. ${describe(error)}`));
  }
}

function detailView(item, notice, token) {
  const assignees = Array.isArray(item.assignees) ? item.assignees : [];
  const values = h("div", { class: "values-body" }, h("p", { class: "hint" }, "Loading…"));
  const history = h("div", { class: "history-body" }, h("p", { class: "hint" }, "Loading…"));
  const query = { thread_id: item.thread_id };
  fill(
    values,
    () => api(`threads/${enc(item.thread_id)}/state`),
    (st) => valuesView(st?.values),
    token,
  );
  fill(
    history,
    () => api(`interrupts/${enc(item.interrupt_id)}/history`, { query }),
    (body) => {
      const entries = Array.isArray(body?.entries) ? body.entries : [];
      return entries.length
        ? h("ol", { class: "history" }, entries.map(historyEntry))
        : h("p", { class: "hint" }, "Nothing recorded yet.");
    },
    token,
  );
  const deadline = item.deadline ? deadlineState(item.deadline) : null;
  return [
    h(
      "header",
      { class: "detail-head" },
      h("a", { href: "#/", class: "back" }, "← All interrupts"),
      h("h2", { id: "detail-title", tabindex: "-1" }, truncate(summary(item), 200)),
      h(
        "dl",
        { class: "facts" },
        fact("Status", statusTag(item.status)),
        fact("Graph", item.graph_id ?? "unknown"),
        item.assistant_id && item.assistant_id !== item.graph_id
          ? fact("Assistant", h("code", {}, item.assistant_id))
          : null,
        fact(
          "Asked",
          timeEl(item.created_at, fullTime(item.created_at)),
          " (",
          h("span", { "data-since": item.created_at }, ago(item.created_at)),
          ")",
        ),
        item.deadline
          ? fact(
              "Deadline",
              timeEl(item.deadline, fullTime(item.deadline)),
              item.status === "pending"
                ? [
                    " (",
                    h("span", { class: `deadline ${deadline.urgency}`, "data-deadline": item.deadline }, deadline.text),
                    ")",
                  ]
                : null,
            )
          : null,
        assignees.length ? fact("Assignees", assignees.join(", ")) : null,
        fact("Thread", h("code", {}, item.thread_id)),
        fact("Interrupt", h("code", {}, item.interrupt_id)),
      ),
    ),
    notice ? noticeEl(notice) : null,
    questionView(item),
    h("details", { class: "values" }, h("summary", {}, "Thread values"), values),
    h(
      "section",
      { class: "answer-area", "aria-label": "Answer" },
      item.status === "pending" ? answerForm(item) : closedView(item),
    ),
    h("details", { class: "history-box", open: true }, h("summary", {}, "History"), history),
  ];
}

/**
 * Show one interrupt in the detail pane. `notice(item)` may return a message to show above it
 * (the outcome of an answer); returns the interrupt, or null when it could not be read.
 */
async function openDetail(threadId, interruptId, { focus = true, notice = null } = {}) {
  const token = ++state.detailToken;
  state.selected = { threadId, interruptId };
  markSelected();
  document.body.classList.add("has-detail");
  const pane = $("#detail-pane");
  pane.setAttribute("aria-busy", "true");
  let item;
  try {
    item = await api(`interrupts/${enc(interruptId)}`, { query: { thread_id: threadId ?? undefined } });
  } catch (error) {
    if (token !== state.detailToken || error.status === 401) return null;
    const text =
      error.status === 404
        ? "This interrupt was not found: the link may be wrong, or it is on a thread you may not see."
        : describe(error);
    setChildren(
      pane,
      h("a", { href: "#/", class: "back" }, "← All interrupts"),
      h("p", { class: "error", role: "alert" }, text),
    );
    pane.setAttribute("aria-busy", "false");
    return null;
  }
  if (token !== state.detailToken) return null;
  const shown = notice ? notice(item) : null;
  setChildren(pane, detailView(item, shown, token));
  pane.setAttribute("aria-busy", "false");
  if (focus) (pane.querySelector(".notice") ?? pane.querySelector("#detail-title"))?.focus();
  return item;
}

function parseRoute() {
  const match = location.hash.match(/^#\/interrupts\/([^/]+)(?:\/([^/]+))?\/?$/);
  if (!match) return null;
  try {
    const [first, second] = [match[1], match[2]].map((part) =>
      part === undefined ? undefined : decodeURIComponent(part),
    );
    return second === undefined ? { threadId: null, interruptId: first } : { threadId: first, interruptId: second };
  } catch {
    return null; // a malformed escape: not a route
  }
}

function route({ focus = true } = {}) {
  const target = parseRoute();
  if (target) {
    openDetail(target.threadId, target.interruptId, { focus });
    return;
  }
  state.detailToken++;
  state.selected = null;
  markSelected();
  document.body.classList.remove("has-detail");
  $("#detail-pane").replaceChildren(h("p", { class: "placeholder" }, "Choose an interrupt to answer it."));
  if (focus && location.hash === "#/") $("#list-title").focus();
}

// --- start -------------------------------------------------------------------------------------

function bind() {
  $("#signin-form").addEventListener("submit", signIn);
  $("#signin-open").addEventListener("click", () => showSignIn(null, { voluntary: true }));
  $("#signin-cancel").addEventListener("click", () => {
    state.signingIn = false;
    $("#signin-reason").textContent = "";
    renderWho();
    showApp();
  });
  $("#signout").addEventListener("click", signOut);
  const filters = $("#filters");
  filters.addEventListener("submit", applyFilters);
  for (const name of ["status", "graph_id", "sort"])
    filters.elements[name].addEventListener("change", () => applyFilters());
  $("#refresh").addEventListener("click", () => {
    state.pageSignature = "";
    loadList();
  });
  $("#prev").addEventListener("click", () => {
    state.offset = Math.max(0, state.offset - PAGE_SIZE);
    loadList();
  });
  $("#next").addEventListener("click", () => {
    state.offset += PAGE_SIZE;
    loadList();
  });
  window.addEventListener("hashchange", () => route());
  setInterval(tick, TICK_MS);
  setInterval(() => {
    if (!document.hidden && !$("#app").hidden) loadList();
  }, REFRESH_MS);
}

async function start() {
  bind();
  renderWho();
  loadGraphs();
  await loadList();
  if (!state.signingIn) route({ focus: false });
  document.body.dataset.ready = "true"; // for tests and scripts: the first load is done
}

start();
