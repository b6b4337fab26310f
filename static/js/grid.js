// The grille d'évaluation (templates/evaluations/grid_detail.html).
//
// Each field saves itself through htmx (hx-post + hx-trigger on the field; hx-sync on the
// grid serialises the requests of one row). This script adds what htmx does not do:
//  - the parameters of each save: row, field, value and the revision the writer read;
//  - a visible state per field (en cours… / enregistré ✓ / échec – nouvel essai / conflit);
//  - no data lost: every change is kept in localStorage until the server confirms it; a
//    failed save (network, timeout, 5xx, expired session) is retried with backoff, at once
//    when the browser comes back online, and on the next visit (values restored first);
//  - a stale revision (409: another member saved the row since) is never retried by itself:
//    the field shows the other writer's value and the member chooses.
// No inline script (CSP): the French words come from a json_script block.
(function () {
  "use strict";

  const root = document.getElementById("grid");
  const wordsNode = document.getElementById("grid-messages");
  if (!root || !wordsNode || typeof htmx === "undefined") {
    return;
  }
  const T = JSON.parse(wordsNode.textContent);
  // Per grid and per user: members sharing a workshop tablet never send each other's edits.
  const PREFIX = "grille:" + root.dataset.gridId + ":" + root.dataset.userId + ":";
  const editable = root.dataset.editable === "1";
  const BACKOFF_SECONDS = [2, 4, 8, 15, 30, 60];
  const TIMEOUT_MS = 20000;
  const statusBox = document.getElementById("grid-save-status");

  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, (match, name) => String(values[name]));
  }

  // ---------------------------------------------------------------------------------------
  // Pending changes, kept in localStorage (in memory when the browser refuses storage)
  // ---------------------------------------------------------------------------------------
  const memory = {};
  const store = {
    get(key) {
      try {
        const raw = window.localStorage.getItem(key);
        if (raw) {
          return JSON.parse(raw);
        }
      } catch (error) {
        // storage unavailable or corrupt: fall back to memory
      }
      return memory[key] || null;
    },
    set(key, entry) {
      memory[key] = entry;
      try {
        window.localStorage.setItem(key, JSON.stringify(entry));
      } catch (error) {
        // quota or private mode: the memory copy still survives until the page closes
      }
    },
    remove(key) {
      delete memory[key];
      try {
        window.localStorage.removeItem(key);
      } catch (error) {
        // nothing stored there
      }
    },
    keys() {
      const keys = new Set(Object.keys(memory));
      try {
        for (let i = 0; i < window.localStorage.length; i += 1) {
          const key = window.localStorage.key(i);
          if (key && key.indexOf(PREFIX) === 0) {
            keys.add(key);
          }
        }
      } catch (error) {
        // memory only
      }
      return Array.from(keys);
    },
  };

  // ---------------------------------------------------------------------------------------
  // Read-only page: say if this device still holds changes that were never saved
  // ---------------------------------------------------------------------------------------
  if (!editable) {
    const unsent = store.keys();
    const box = document.getElementById("grid-unsent");
    if (unsent.length && box) {
      box.querySelector("[data-count]").textContent = String(unsent.length);
      const list = box.querySelector("ul");
      unsent.forEach((key) => {
        const item = document.createElement("li");
        item.textContent = key.slice(PREFIX.length) + " : " + ((store.get(key) || {}).value || "");
        list.appendChild(item);
      });
      box.querySelector("button").addEventListener("click", () => {
        unsent.forEach((key) => store.remove(key));
        box.hidden = true;
      });
      box.hidden = false;
    }
    return;
  }

  // 4xx answers are the grid's own (conflict, lock, invalid value): handled here, not errors.
  htmx.config.responseHandling = [
    { code: "204", swap: false },
    { code: "[23]..", swap: true },
    { code: "(400|401|403|404|409|423)", swap: false, error: false },
    { code: "[45]..", swap: false, error: true },
  ];

  // ---------------------------------------------------------------------------------------
  // Fields
  // ---------------------------------------------------------------------------------------
  const inflight = new Map(); // element -> {key, value, revision}
  const attempts = new Map(); // key -> failures in a row
  const timers = new Map(); // key -> {el, due, id, message}
  let lastSavedAt = "";
  const byKey = new Map();
  const stored = new Map(); // key -> the value the server holds, as far as this page knows
  function keyOf(el) {
    return PREFIX + el.dataset.rowKind + ":" + el.dataset.rowId + ":" + el.dataset.field;
  }

  function rowOf(el) {
    return el.closest("[data-revision]");
  }

  function readValue(el) {
    if (el.tagName === "FIELDSET") {
      const checked = el.querySelector("input[type=radio]:checked");
      return checked ? checked.value : "";
    }
    if (el.type === "checkbox") {
      return el.checked ? "on" : "";
    }
    return el.value;
  }

  root.querySelectorAll("[data-field]").forEach((el) => {
    byKey.set(keyOf(el), el);
    stored.set(keyOf(el), readValue(el));
  });

  function writeValue(el, value) {
    const text = value === null || value === undefined ? "" : String(value);
    if (el.tagName === "FIELDSET") {
      el.querySelectorAll("input[type=radio]").forEach((radio) => {
        radio.checked = radio.value === text;
      });
    } else if (el.type === "checkbox") {
      el.checked = text === "on";
    } else {
      el.value = text;
    }
    reflect(el);
  }

  // Immediate feedback before the server answers: the comment requirement of a
  // non-mastered level, the criteria ticked for the comment.
  function reflect(el) {
    if (el.dataset.field === "level") {
      const checked = el.querySelector("input[type=radio]:checked");
      const section = el.closest(".competence");
      if (section) {
        section.classList.toggle("is-not-mastered",
          Boolean(checked) && checked.dataset.mastered === "0");
      }
    } else if (el.dataset.field === "concerned") {
      const row = rowOf(el);
      if (row) {
        row.classList.toggle("is-concerned", el.checked);
      }
    }
  }

  function fieldBox(el) {
    return el.closest(".grid-field") || el;
  }

  function setState(el, state, text) {
    const box = fieldBox(el);
    const label = box.querySelector(".field-state");
    box.dataset.state = state;
    if (label) {
      label.textContent = text || "";
      label.dataset.state = state;
    }
  }

  function isInflight(key) {
    return Array.from(inflight.values()).some((sent) => sent.key === key);
  }

  // The change is stored before anything is sent: a crash, a closed tab or a dead
  // battery loses nothing. Back to the stored value with nothing on its way: nothing to save.
  function remember(el) {
    const key = keyOf(el);
    const value = readValue(el);
    const entry = store.get(key) || { revision: rowOf(el).dataset.revision };
    reflect(el);
    if (value === stored.get(key) && !entry.conflict && !isInflight(key) && !timers.has(key)) {
      store.remove(key);
      return null;
    }
    entry.value = value;
    entry.at = Date.now();
    store.set(key, entry);
    return entry;
  }

  function onEdit(event) {
    const el = event.target.closest && event.target.closest("[data-field]");
    if (el && root.contains(el)) {
      remember(el);
      updateGlobal();
    }
  }
  // Capture: runs before htmx's own listener on the field.
  document.addEventListener("input", onEdit, true);
  document.addEventListener("change", onEdit, true);

  // ---------------------------------------------------------------------------------------
  // Sending (htmx) and answers
  // ---------------------------------------------------------------------------------------

  function send(el) {
    htmx.trigger(el, "gridretry");
  }

  root.addEventListener("htmx:configRequest", (event) => {
    const el = event.detail.elt;
    if (!el.dataset || !el.dataset.field) {
      return;
    }
    const key = keyOf(el);
    const entry = remember(el);
    if (!entry) {
      event.preventDefault(); // the server already holds this value
      setState(el, "", "");
      return;
    }
    if (entry.conflict) {
      // The member decides first (keep mine / take theirs): never resent by itself.
      event.preventDefault();
      return;
    }
    clearTimer(key);
    const params = event.detail.parameters;
    params.row_kind = el.dataset.rowKind;
    params.row_id = el.dataset.rowId;
    params.field = el.dataset.field;
    params.value = entry.value;
    params.revision = entry.revision;
    event.detail.timeout = TIMEOUT_MS;
    inflight.set(el, { key, value: entry.value, revision: String(entry.revision) });
    setState(el, "saving", T.saving);
    updateGlobal();
  });

  root.addEventListener("htmx:afterRequest", (event) => {
    const el = event.detail.elt;
    const sent = inflight.get(el);
    if (!sent) {
      return;
    }
    inflight.delete(el);
    const xhr = event.detail.xhr;
    const status = xhr ? xhr.status : 0;
    const revision = xhr && status >= 200 && status < 300
      ? xhr.getResponseHeader("X-Grid-Revision") : null;
    if (revision) {
      saved(el, sent, revision, xhr.getResponseHeader("X-Grid-Saved-At") || "");
    } else {
      let data = {};
      try {
        data = JSON.parse(xhr.responseText);
      } catch (error) {
        data = {};
      }
      if (status === 409 && data.error === "stale") {
        stale(el, sent, data);
      } else if (status === 423) {
        refused(el, sent, data.message || T.locked, true);
      } else if ((status === 400 || status === 403 || status === 404) && data.error) {
        refused(el, sent, data.message || T.refused, false);
      } else {
        // 0 (network down, timeout, aborted), 5xx, 401 (session expired), a 403 that is not
        // ours (CSRF token of an old session), or a 2xx that is not ours (a login page):
        // keep the change and try again.
        failed(el, sent, status === 401 || status === 403 ? T.session : "");
      }
    }
    updateGlobal();
  });

  function rowFields(row) {
    return root.querySelectorAll("[data-field][data-row-kind='" + row.dataset.rowKind +
      "'][data-row-id='" + row.dataset.rowId + "']");
  }

  function saved(el, sent, revision, at) {
    const row = rowOf(el);
    row.dataset.revision = revision;
    // Changes of this row made on the same read as this save are based on it now.
    rowFields(row).forEach((field) => {
      const key = keyOf(field);
      const entry = store.get(key);
      if (entry && String(entry.revision) === sent.revision) {
        entry.revision = revision;
        store.set(key, entry);
      }
    });
    attempts.delete(sent.key);
    stored.set(sent.key, sent.value);
    const entry = store.get(sent.key);
    if (entry && entry.value === sent.value && !entry.conflict) {
      store.remove(sent.key);
      lastSavedAt = at || lastSavedAt;
      setState(el, "saved", at ? fmt(T.savedAt, { time: at }) : T.saved);
    }
    // Otherwise the member typed on meanwhile: the request already triggered carries it.
  }

  function stale(el, sent, data) {
    const row = rowOf(el);
    const entry = store.get(sent.key) || { value: sent.value };
    // The row as stored now: untouched fields take its values, the row its revision.
    rowFields(row).forEach((field) => {
      const key = keyOf(field);
      const name = field.dataset.field;
      if (!data.row || !(name in data.row)) {
        return;
      }
      stored.set(key, data.row[name]);
      if (key !== sent.key && !store.get(key) && readValue(field) !== data.row[name]) {
        writeValue(field, data.row[name]);
      }
    });
    row.dataset.revision = data.revision;
    attempts.delete(sent.key);
    if (String(data.current_value) === String(entry.value)) {
      // Same value: an earlier attempt whose answer was lost, or the same choice.
      store.remove(sent.key);
      removeConflict(el);
      setState(el, "saved", T.saved);
      return;
    }
    entry.conflict = {
      value: data.current_value,
      display: data.current_display,
      revision: data.revision,
      message: data.message,
    };
    store.set(sent.key, entry);
    showConflict(el, entry);
  }

  function refused(el, sent, message, locked) {
    // A definitive refusal (signed grid, invalid value): shown, the value stays on screen,
    // nothing is retried.
    const entry = store.get(sent.key);
    if (entry && entry.value !== sent.value) {
      return; // changed again since: the next request decides
    }
    store.remove(sent.key);
    attempts.delete(sent.key);
    setState(el, "refused", T.refused + " : " + message);
    if (locked && statusBox) {
      statusBox.dataset.locked = "1";
    }
  }

  function failed(el, sent, message) {
    const count = attempts.get(sent.key) || 0;
    attempts.set(sent.key, count + 1);
    schedule(el, sent.key, BACKOFF_SECONDS[Math.min(count, BACKOFF_SECONDS.length - 1)], message);
  }

  // ---------------------------------------------------------------------------------------
  // Retries
  // ---------------------------------------------------------------------------------------
  let ticker = null;

  function clearTimer(key) {
    const timer = timers.get(key);
    if (timer) {
      window.clearTimeout(timer.id);
      timers.delete(key);
    }
  }

  function schedule(el, key, seconds, message) {
    clearTimer(key);
    const id = window.setTimeout(() => {
      timers.delete(key);
      setState(el, "saving", T.retrying);
      send(el);
    }, seconds * 1000);
    timers.set(key, { el, id, due: Date.now() + seconds * 1000, message });
    tick();
    if (!ticker) {
      ticker = window.setInterval(tick, 1000);
    }
  }

  function tick() {
    timers.forEach((timer) => {
      const seconds = Math.max(0, Math.ceil((timer.due - Date.now()) / 1000));
      const text = fmt(T.retryIn, { seconds });
      setState(timer.el, "failed", timer.message ? text + " — " + timer.message : text);
    });
    if (!timers.size && ticker) {
      window.clearInterval(ticker);
      ticker = null;
    }
    updateGlobal();
  }

  // Send every stored change that is not waiting for the member's decision.
  function flush() {
    store.keys().forEach((key) => {
      const el = byKey.get(key);
      const entry = store.get(key);
      if (!el || !entry || entry.conflict || Array.from(inflight.values()).some((s) => s.key === key)) {
        return;
      }
      clearTimer(key);
      attempts.delete(key);
      send(el);
    });
  }

  window.addEventListener("online", () => {
    updateGlobal();
    flush();
  });
  window.addEventListener("offline", updateGlobal);

  // ---------------------------------------------------------------------------------------
  // Conflicts: the other writer's value, and the member's choice
  // ---------------------------------------------------------------------------------------
  function removeConflict(el) {
    const old = fieldBox(el).querySelector(".field-conflict");
    if (old) {
      old.remove();
    }
  }

  function showConflict(el, entry) {
    removeConflict(el);
    const box = document.createElement("div");
    box.className = "field-conflict alert alert-warning py-2 px-2 mt-1 mb-0 small";
    box.setAttribute("role", "alert");
    const message = document.createElement("p");
    message.className = "mb-1";
    message.textContent = entry.conflict.message;
    const theirs = document.createElement("p");
    theirs.className = "mb-1 fw-semibold";
    theirs.textContent = fmt(T.theirValue, { value: entry.conflict.display || T.empty });
    const keep = document.createElement("button");
    keep.type = "button";
    keep.className = "btn btn-sm btn-warning me-1";
    keep.textContent = T.keepMine;
    keep.addEventListener("click", () => {
      const current = store.get(keyOf(el)) || entry;
      current.revision = current.conflict ? current.conflict.revision : current.revision;
      current.value = readValue(el);
      delete current.conflict;
      store.set(keyOf(el), current);
      removeConflict(el);
      send(el);
    });
    const take = document.createElement("button");
    take.type = "button";
    take.className = "btn btn-sm btn-outline-secondary";
    take.textContent = T.takeTheirs;
    take.addEventListener("click", () => {
      store.remove(keyOf(el));
      writeValue(el, entry.conflict.value);
      removeConflict(el);
      setState(el, "saved", T.saved);
      updateGlobal();
    });
    box.append(message, theirs, keep, take);
    fieldBox(el).appendChild(box);
    setState(el, "conflict", T.conflict);
  }

  // ---------------------------------------------------------------------------------------
  // The global state, in the sticky toolbar
  // ---------------------------------------------------------------------------------------
  function updateGlobal() {
    if (!statusBox || statusBox.dataset.locked) {
      if (statusBox && statusBox.dataset.locked) {
        statusBox.textContent = T.locked;
        statusBox.dataset.state = "conflict";
      }
      return;
    }
    let conflicts = 0;
    let pending = 0;
    store.keys().forEach((key) => {
      const entry = store.get(key);
      if (entry && entry.conflict) {
        conflicts += 1;
      } else if (entry) {
        pending += 1;
      }
    });
    let state = "saved";
    let text = lastSavedAt ? fmt(T.allSavedAt, { time: lastSavedAt }) : T.allSaved;
    if (conflicts) {
      state = "conflict";
      text = fmt(T.conflicts, { count: conflicts });
    } else if (timers.size && !navigator.onLine) {
      state = "failed";
      text = fmt(T.offline, { count: pending });
    } else if (timers.size) {
      state = "failed";
      text = fmt(T.failing, { count: pending });
    } else if (pending) {
      state = "saving";
      text = fmt(T.pending, { count: pending });
    }
    statusBox.dataset.state = state;
    if (statusBox.textContent !== text) {
      statusBox.textContent = text;
    }
  }

  // ---------------------------------------------------------------------------------------
  // On load: put back and resend what an earlier visit could not save
  // ---------------------------------------------------------------------------------------
  let started = false;
  htmx.onLoad(() => {
    if (started) {
      return;
    }
    started = true;
    let restored = 0;
    store.keys().forEach((key) => {
      const el = byKey.get(key);
      const entry = store.get(key);
      if (!el || !entry) {
        return;
      }
      if (readValue(el) === entry.value) {
        store.remove(key); // the server has it already
        return;
      }
      writeValue(el, entry.value);
      restored += 1;
      if (entry.conflict) {
        showConflict(el, entry);
      } else {
        setState(el, "saving", T.saving);
        send(el);
      }
    });
    if (restored && statusBox) {
      const notice = document.createElement("p");
      notice.className = "grid-restored small mb-0";
      notice.setAttribute("role", "status");
      notice.textContent = fmt(T.restored, { count: restored });
      statusBox.after(notice);
    }
    updateGlobal();
  });
})();
