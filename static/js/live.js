// The officer's live page. The websocket is the doorbell; Postgres (via resume / alerts.json) is the truth.
(function () {
  "use strict";
  const root = document.getElementById("live");
  if (!root) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const canDecide = root.dataset.access === "adjudicate";
  const me = Number(root.dataset.user);
  // One id per page load: the images of a card view (both faces, an enlargement) are one audit event.
  const viewId = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, "0")).join("");
  const dialog = document.getElementById("image-dialog");
  const list = document.getElementById("alerts");
  const template = document.getElementById("alert-template");
  const connection = document.getElementById("connection");
  const cards = new Map();
  let soundOn = true;
  let retry = 1000;
  // Catch-up: every few seconds the open socket asks for what changed since the last answer's cursor, so an
  // alert whose broadcast was lost (broker fault) still shows, once (cards are keyed by alert id).
  let cursor = null;
  let catchUp = null;
  let audio = null;

  document.getElementById("sound-toggle").addEventListener("click", (e) => {
    soundOn = !soundOn;
    e.target.textContent = soundOn ? "Sound on" : "Sound off";
  });

  function chime() {
    if (!soundOn) return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      if (audio.state === "suspended") audio.resume();
      const osc = audio.createOscillator();
      const gain = audio.createGain();
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.2, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
      osc.connect(gain).connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + 0.6);
    } catch (err) { /* no audio device: the visual cue still shows */ }
  }

  function viewed(url) {
    const address = new URL(url, location.origin);
    address.searchParams.set("view", viewId);
    return address.pathname + address.search;
  }

  function enlarge(src, alt) {
    const img = dialog.querySelector("img");
    img.src = src;
    img.alt = alt;
    dialog.showModal();
  }

  const when = (iso) => new Date(iso).toLocaleTimeString([], {hour: "2-digit", minute: "2-digit"});

  function decisionText(a) {
    return a.decision + (a.notes ? " – " + a.notes : "") + " (" + a.officer + ", " + when(a.at) +
      (a.amends ? "; amended: " + a.amend_reason : "") + ")";
  }

  function engagementText(a) {
    let text = a.engaged ? "Engaged" : "Not engaged";
    if (a.engaged) text += a.identity_confirmed ? ", identity confirmed" : ", identity not confirmed";
    if (a.stop_minutes !== null) text += ", stopped " + a.stop_minutes + " min";
    if (a.result) text += " – " + a.result_label;
    if (a.notes) text += " – " + a.notes;
    return text + " (" + a.officer + ", " + when(a.at) + (a.amends ? "; amended: " + a.amend_reason : "") + ")";
  }

  function amendable(a) {
    return Boolean(a) && canDecide && a.officer_id === me && new Date(a.amendable_until) > new Date();
  }

  function showAmendButtons(card) {
    const alert = card.alertData;
    card.querySelector('[data-amend="decision"]').hidden = !amendable(alert.decision) || Boolean(card.dataset.amending);
    card.querySelector('[data-amend="engagement"]').hidden = !amendable(alert.engagement) ||
      Boolean(card.dataset.amending);
  }

  function showForms(card) {
    const alert = card.alertData;
    const amending = card.dataset.amending || "";
    const open = alert.status === "pending" || alert.status === "awaiting_verification";
    card.querySelector(".decide").hidden = !(canDecide && (open || amending === "decision"));
    card.querySelector(".engage").hidden = !(canDecide && ((!open || alert.status === "awaiting_verification") &&
      alert.decision && !alert.engagement && !amending || amending === "engagement"));
    card.querySelector(".amending").hidden = !amending;
    showAmendButtons(card);
  }

  function startAmending(card, stage) {
    card.dataset.amending = stage;
    const target = card.alertData[stage];
    card.querySelector(".amend-reason").value = "";
    if (stage === "decision") {
      card.querySelector(".notes").value = target.notes;
    } else {
      card.querySelector(".engaged").value = target.engaged ? "yes" : "no";
      card.querySelector(".identity").value = target.identity_confirmed === null ? "" :
        (target.identity_confirmed ? "yes" : "no");
      card.querySelector(".stop-minutes").value = target.stop_minutes === null ? "" : target.stop_minutes;
      card.querySelector(".result").value = target.result;
      card.querySelector(".engage-notes").value = target.notes;
    }
    showForms(card);
  }

  function stopAmending(card) {
    delete card.dataset.amending;
    showForms(card);
  }

  function render(alert, fresh) {
    let card = cards.get(alert.id);
    // A catch-up may bring a version older than one the socket already pushed: keep the newer.
    if (card && Number(card.dataset.version) > alert.version) return;
    if (!card) {
      card = template.content.firstElementChild.cloneNode(true);
      card.dataset.alertId = alert.id;
      const probe = card.querySelector(".probe");
      probe.src = viewed(alert.probe_url);
      card.querySelector('[data-enlarge="probe"]').addEventListener("click", () => enlarge(probe.src, probe.alt));
      const ref = card.querySelector(".reference");
      if (alert.reference_url) {
        ref.src = viewed(alert.reference_face_url);
        card.querySelector('[data-enlarge="reference"]').addEventListener(
          "click", () => enlarge(viewed(alert.reference_url), "Watchlist image"));
      } else {
        ref.closest("figure").remove();
      }
      card.querySelectorAll(".decide-btn").forEach((button) => {
        button.addEventListener("click", () => decide(alert.id, button.dataset.decision, card));
      });
      card.querySelector(".engage").addEventListener("submit", (event) => {
        event.preventDefault();
        engage(card);
      });
      card.querySelectorAll(".amend-btn").forEach((button) => {
        button.addEventListener("click", () => startAmending(card, button.dataset.amend));
      });
      card.querySelector(".amend-cancel").addEventListener("click", () => stopAmending(card));
      cards.set(alert.id, card);
      const newer = [...list.children].find((c) => Number(c.dataset.alertId) < alert.id);
      list.insertBefore(card, newer || null);
      if (fresh) {
        card.classList.add("arrived");
        setTimeout(() => card.classList.remove("arrived"), 4000);
        chime();
        // background_alerts.js: a notification when this page is hidden
        root.dispatchEvent(new CustomEvent("lfr:alert-arrived", {detail: alert}));
      }
    }
    card.alertData = alert;
    card.dataset.version = alert.version;
    card.classList.toggle("test-alert", Boolean(alert.test));  // a consenting test subject: marked TEST
    card.querySelector(".test-mark").hidden = !alert.test;
    card.dataset.status = alert.status;
    const warnings = card.querySelector(".warnings");
    warnings.replaceChildren(...alert.warnings.map((label) => {
      const item = document.createElement("li");
      item.textContent = label;
      return item;
    }));
    warnings.hidden = alert.warnings.length === 0;
    card.querySelector(".name").textContent = alert.subject.name;
    card.querySelector(".ref").textContent = alert.subject.reference + " · priority " + alert.subject.priority;
    card.querySelector(".category").textContent = alert.subject.category;
    card.querySelector(".reason").textContent = alert.subject.reason;
    const instructions = card.querySelector(".instructions");
    instructions.querySelector("span").textContent = alert.engagement_instructions;
    instructions.hidden = !alert.engagement_instructions;
    const age = card.querySelector(".image-age");
    age.textContent = alert.image_age || "";
    age.classList.toggle("image-old", Boolean(alert.image_age_warning));
    const seen = new Date(alert.frame_time);
    card.querySelector(".meta").textContent = alert.camera.name + " · " + seen.toLocaleTimeString() +
      " · score " + alert.score.toFixed(2) + " (threshold " + alert.threshold.toFixed(2) + ")";
    card.querySelector(".status").textContent = alert.status_label;
    const outcome = card.querySelector(".outcome");
    outcome.hidden = !alert.decision;
    if (alert.decision) card.querySelector(".saved-decision").textContent = "Decision: " + decisionText(alert.decision);
    const saved = card.querySelector(".saved-engagement");
    saved.hidden = !alert.engagement;
    if (alert.engagement) saved.textContent = "Engagement: " + engagementText(alert.engagement);
    const open = alert.status === "pending" || alert.status === "awaiting_verification";
    card.classList.toggle("decided", !open);
    showForms(card);
    document.getElementById("empty").hidden = cards.size > 0;
  }

  // The amendment window closes while the page stays open: hide the buttons then (the server refuses anyway).
  setInterval(() => cards.forEach(showAmendButtons), 30 * 1000);

  async function send(card, url, request) {
    const error = card.querySelector(".error");
    error.textContent = "";
    request.version = card.dataset.version;
    const amending = card.dataset.amending;
    if (amending) {
      request.reason = card.querySelector(".amend-reason").value;
      url = card.alertData[amending].amend_url;
    }
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
      body: JSON.stringify(request),
    });
    if (response.redirected || response.status === 401) {  // signed out: keep what was typed, say so
      error.textContent = "Not saved: you are signed out. Sign in again, then decide.";
      showSignedOut();
      return;
    }
    const body = await response.json().catch(() => ({errors: ["unexpected reply " + response.status]}));
    if (!response.ok) { error.textContent = (body.errors || []).join(" "); return; }
    delete card.dataset.amending;
    render(body.alert, false);
  }

  function decide(id, decision, card) {
    const notes = card.querySelector(".notes").value;
    const request = {decision: decision, notes: notes};
    // Only the details that belong to the chosen decision are sent (the server refuses the others).
    const pick = (selector) => card.querySelector(selector).value;
    if (decision === "not_a_match") {
      request.demographics = {ethnicity: pick(".ethnicity"), perceived_sex: pick(".perceived-sex"),
                              age_band: pick(".age-band")};
    }
    return send(card, card.alertData.adjudicate_url, request);
  }

  function engage(card) {
    const pick = (selector) => card.querySelector(selector).value;
    const engaged = pick(".engaged");
    const request = {engaged: engaged, result: pick(".result"), notes: pick(".engage-notes")};
    if (engaged === "yes") {  // identity and minutes belong to an engagement (the server refuses them otherwise)
      request.identity_confirmed = pick(".identity");
      request.stop_minutes = pick(".stop-minutes");
    }
    return send(card, card.alertData.engagement_url, request);
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    const socket = new WebSocket(scheme + location.host + root.dataset.socket);
    current = socket;
    socket.addEventListener("open", () => {
      retry = 1000;
      connection.textContent = "live";
      connection.className = "badge ok";
      socket.send(JSON.stringify({type: "resume"}));
    });
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      if (message.type === "hello") {
        clearInterval(catchUp);
        catchUp = setInterval(() => {
          if (current === socket && socket.readyState === WebSocket.OPEN && cursor) {
            socket.send(JSON.stringify({type: "catch_up", cursor: cursor}));
          }
        }, 1000 * (message.catch_up_seconds || 10));
      } else if (message.type === "alerts.snapshot") {
        const known = new Set(cards.keys());
        message.alerts.forEach((a) => render(a, !known.has(a.id) && known.size > 0));
        cursor = message.cursor;
      } else if (message.type === "alerts.catch_up") {
        message.alerts.forEach((a) => render(a, !cards.has(a.id)));
        cursor = message.cursor;
      } else if (message.type === "alert.created") {
        render(message.alert, !cards.has(message.alert.id));
      } else if (message.type === "alert.updated") {
        render(message.alert, false);
      } else if (message.type === "camera.status") {
        const item = document.querySelector('[data-camera="' + message.camera_id + '"] .badge');
        if (item) { item.textContent = message.label; item.className = "badge camera-" + message.status; }
      } else if (message.type === "deployment.state") {
        const badge = document.getElementById("deployment-state");
        badge.textContent = message.label;
        badge.className = "badge state-" + message.state;
      }
    });
    socket.addEventListener("close", (event) => {
      if (current !== socket) return;  // closed on purpose (signed out)
      clearInterval(catchUp);
      current = null;
      // refused (4403) or ended by the server (4401): signed out, or no longer allowed?
      if (event.code === 4403 || event.code === 4401) { checkSession(event.code); return; }
      connection.textContent = "reconnecting…";
      connection.className = "badge warn";
      setTimeout(() => { if (!signedOut) connect(); }, retry);
      retry = Math.min(retry * 2, 15000);
    });
  }

  // The session. A ping keeps it alive while the page is open (the idle timeout must not sign a watching
  // officer out) and tells when it has ended anyway (expired, signed out elsewhere, MFA reset): the page
  // then says so, stops listening and keeps asking. Once the officer signs in again, here or in another
  // tab, the socket reconnects and its resume brings every alert raised meanwhile: none is lost.
  let current = null;
  let signedOut = false;
  let recheck = null;

  async function sessionAlive() {
    try {
      const response = await fetch(root.dataset.catchup + "?after=999999999",
                                   {credentials: "same-origin", headers: {"Accept": "application/json"}});
      if (response.redirected || response.status === 401 || response.status === 403) return false;
      return response.ok ? true : null;
    } catch (err) {
      return null;  // offline or server down: not a sign-out, the socket's retries cover it
    }
  }

  async function checkSession(refused) {
    const alive = await sessionAlive();
    if (alive === false) {
      showSignedOut();
    } else if (alive === true && signedOut) {
      signedOut = false;
      document.getElementById("signed-out").remove();
      retry = 1000;
      connect();
    } else if (alive === true && refused === 4401) {  // still signed in, but its access changed: ask again
      connect();
    } else if (alive === true && refused) {
      connection.textContent = "not allowed";
      connection.className = "badge warn";
    } else if (refused) {  // could not tell: try the socket again later
      setTimeout(() => { if (!signedOut && !current) connect(); }, retry);
      retry = Math.min(retry * 2, 15000);
    }
    clearTimeout(recheck);
    if (signedOut) recheck = setTimeout(() => checkSession(false), 5000);
  }

  function showSignedOut() {
    connection.textContent = "signed out";
    connection.className = "badge warn";
    if (signedOut) return;
    signedOut = true;
    if (current) { const socket = current; current = null; socket.close(); }
    const banner = document.createElement("div");
    banner.id = "signed-out";
    banner.className = "alert-box";
    banner.setAttribute("role", "alert");
    banner.dataset.testid = "signed-out";
    const link = document.createElement("a");
    link.href = "/accounts/login/?next=" + encodeURIComponent(location.pathname);
    link.textContent = "Sign in again";
    banner.append("Signed out: your session has ended and this page is not receiving alerts. ", link,
                  " (here or in another tab). Alerts raised meanwhile are kept and appear here once you are back.");
    root.insertBefore(banner, root.firstChild);
  }

  setInterval(() => checkSession(false), 5 * 60 * 1000);
  window.addEventListener("focus", () => checkSession(false));
  document.addEventListener("visibilitychange", () => { if (!document.hidden) checkSession(false); });
  connect();
})();
