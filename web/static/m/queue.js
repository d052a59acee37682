// The outbox: every report, verification and check, kept in IndexedDB under an id made on
// the phone until the server has it. Items are sent in the order they were made.
const DB = "gridcase-mobile";
const STORE = "outbox";

function open() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => {
      const store = req.result.createObjectStore(STORE, { keyPath: "id" });
      store.createIndex("created", "created");
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function run(mode, work) {
  const db = await open();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(STORE, mode);
    const result = work(tx.objectStore(STORE));
    tx.oncomplete = () => { db.close(); resolve(result && "result" in result ? result.result : result); };
    tx.onerror = () => { db.close(); reject(tx.error); };
  });
}

// An id no other phone makes: the report id (and step idempotency key) on the server.
export function newId(prefix) {
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${prefix}-${hex}`;
}

export const put = (item) => run("readwrite", (s) => s.put(item));
export const get = (id) => run("readonly", (s) => s.get(id));
export const remove = (id) => run("readwrite", (s) => s.delete(id));
export const all = () => run("readonly", (s) => s.index("created").getAll());
export const clear = () => run("readwrite", (s) => s.clear());
