// Sending the outbox: in the order items were made, one at a time; a network failure or
// a server that is down stops the round and tries again later (backoff), so nothing
// overtakes what was made before it. The same item sent twice is one case or one step:
// a report carries its id (report_id), a step its Idempotency-Key; a step whose answer was
// lost and whose retry the case refuses (409, it moved on) is looked up in the timeline.
import * as queue from "./queue.js";

const BACKOFF_MS = 500;
const BACKOFF_MAX_MS = 30000;
const TRANSIENT = new Set([408, 425, 429, 500, 502, 503, 504]);
const STEP_PATH = { verify: "verification", check: "check" };
const STEP_EVENTS = { verify: ["CaseVerified"], check: ["ClosureCheckPassed", "ClosureCheckFailed"] };

class Transient extends Error {}
class Refused extends Error {
  constructor(message, problem) { super(message); this.problem = problem; }
}
class SignedOut extends Error {}

function reason(problem, status) {
  if (!problem) return `HTTP ${status}`;
  const errors = (problem.errors || []).map((e) => `${(e.loc || []).slice(1).join(".")}: ${e.msg}`);
  return [problem.detail || problem.title, ...errors].filter(Boolean).join("；");
}

async function call(token, path, options = {}) {
  let response;
  try {
    response = await fetch(path, {
      ...options,
      headers: { Authorization: `Bearer ${token}`, ...(options.headers || {}) },
      cache: "no-store",
    });
  } catch (err) {
    throw new Transient(`网络不可用 (${err.message})`);
  }
  if (response.ok) return response.json();
  let problem = null;
  try { problem = await response.json(); } catch (_) { /* not a problem body */ }
  if (response.status === 401) throw new SignedOut(reason(problem, 401));
  if (TRANSIENT.has(response.status)) throw new Transient(reason(problem, response.status));
  const refused = new Refused(reason(problem, response.status), problem);
  refused.status = response.status;
  throw refused;
}

async function uploadPhotos(token, item) {
  for (const photo of item.photos) {
    if (photo.id) continue;
    const form = new FormData();
    form.append("file", photo.blob, `${photo.kind}.jpg`);
    form.append("kind", photo.kind);
    const answer = await call(token, "/v1/photos", { method: "POST", body: form });
    photo.id = answer.photo;
    await queue.put(item);
  }
  return item.photos.map((p) => p.id);
}

function geoPosition(fix) {
  if (!fix) return {};
  const u = fix.accuracy != null ? `;u=${Math.round(fix.accuracy * 10) / 10}` : "";
  return { "Geo-Position": `geo:${fix.lat.toFixed(7)},${fix.lon.toFixed(7)}${u}` };
}

async function stepAlreadyTaken(token, item, photoIds) {
  const detail = await call(token, `/v1/cases/${encodeURIComponent(item.caseId)}`);
  const wanted = STEP_EVENTS[item.kind];
  return detail.timeline.some((e) =>
    wanted.includes(e.type) &&
    JSON.stringify(e.details.photos || []) === JSON.stringify(photoIds) &&
    (e.details.note || "") === (item.body.note || ""));
}

async function sendOne(token, item) {
  const photoIds = await uploadPhotos(token, item);
  const json = { "Content-Type": "application/json", "Idempotency-Key": item.id };
  if (item.kind === "report") {
    const body = { ...item.body, report_id: item.id, photos: photoIds };
    const answer = await call(token, "/v1/reports", { method: "POST", headers: json, body: JSON.stringify(body) });
    return answer.case_id;
  }
  const body = { ...item.body, photos: photoIds };
  const path = `/v1/cases/${encodeURIComponent(item.caseId)}/${STEP_PATH[item.kind]}`;
  try {
    await call(token, path, { method: "POST", headers: { ...json, ...geoPosition(item.fix) }, body: JSON.stringify(body) });
  } catch (err) {
    // A retry after a lost answer: the case has moved on, and shows this very step.
    if (err instanceof Refused && err.status === 409 && item.attempts > 0
        && await stepAlreadyTaken(token, item, photoIds)) return item.caseId;
    throw err;
  }
  return item.caseId;
}

let running = null;

// One round over the outbox; resolves with the time of the next try (or null).
export function sendAll(token, changed) {
  if (!running) running = round(token, changed).finally(() => { running = null; });
  return running;
}

async function round(token, changed) {
  const items = (await queue.all()).filter((i) => i.status === "waiting" || i.status === "sending");
  for (const item of items) {
    if (item.nextAt && item.nextAt > Date.now()) return item.nextAt;
    item.status = "sending";
    await queue.put(item);
    changed();
    try {
      item.caseId = await sendOne(token, item);
      Object.assign(item, { status: "sent", sentAt: Date.now(), error: "", nextAt: 0 });
      for (const p of item.photos) delete p.blob; // the server has them now
    } catch (err) {
      if (err instanceof Refused) {
        Object.assign(item, { status: "refused", error: err.message, code: err.problem?.code || "" });
      } else {
        item.attempts = (item.attempts || 0) + 1;
        const wait = Math.min(BACKOFF_MAX_MS, BACKOFF_MS * 2 ** (item.attempts - 1));
        Object.assign(item, { status: "waiting", error: err.message, nextAt: Date.now() + wait * (0.75 + Math.random() / 2) });
        await queue.put(item);
        changed();
        if (err instanceof SignedOut) return null;
        return item.nextAt;
      }
    }
    await queue.put(item);
    changed();
  }
  return null;
}

// The network is back: try at once, whatever the backoff said.
export async function wake() {
  for (const item of await queue.all()) {
    if (item.status === "waiting" && item.nextAt) {
      item.nextAt = 0;
      await queue.put(item);
    }
  }
}
