// The officer's live page. The websocket is the doorbell; Postgres (via resume / alerts.json) is the truth.
(function () {
  "use strict";
  const root = document.getElementById("live");
  if (!root) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const canDecide = root.dataset.access === "adjudicate";
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

  function render(alert, fresh) {
    let card = cards.get(alert.id);
    // A catch-up may bring a version older than one the socket already pushed: keep the newer.
    if (card && Number(card.dataset.version) > alert.version) return;
    if (!card) {
      card = template.content.firstElementChild.cloneNode(true);
      card.dataset.alertId = alert.id;
      card.querySelector(".probe").src = alert.probe_url;
      const ref = card.querySelector(".reference");
      if (alert.reference_url) { ref.src = alert.reference_url; } else { ref.closest("figure").remove(); }
      card.querySelectorAll(".decide-btn").forEach((button) => {
        button.addEventListener("click", () => decide(alert.id, button.dataset.decision, card));
      });
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
    card.dataset.version = alert.version;
    card.classList.toggle("test-alert", Boolean(alert.test));  // a consenting test subject: marked TEST
    card.querySelector(".test-mark").hidden = !alert.test;
    card.dataset.status = alert.status;
    card.querySelector(".name").textContent = alert.subject.name;
    card.querySelector(".ref").textContent = alert.subject.reference + " · priority " + alert.subject.priority;
    card.querySelector(".category").textContent = alert.subject.category;
    card.querySelector(".reason").textContent = alert.subject.reason;
    const seen = new Date(alert.frame_time);
    card.querySelector(".meta").textContent = alert.camera.name + " · " + seen.toLocaleTimeString() +
      " · score " + alert.score.toFixed(2) + " (threshold " + alert.threshold.toFixed(2) + ")";
    const decided = alert.adjudications.map((a) => a.decision + " by " + a.officer).join("; ");
    card.querySelector(".status").textContent = alert.status_label + (decided ? " — " + decided : "");
    const open = alert.status === "pending" || alert.status === "awaiting_verification";
    card.classList.toggle("decided", !open);
    card.querySelector(".decide").hidden = !(canDecide && open);
    document.getElementById("empty").hidden = cards.size > 0;
  }

  async function decide(id, decision, card) {
    const error = card.querySelector(".error");
    error.textContent = "";
    const notes = card.querySelector(".notes").value;
    const request = {decision: decision, notes: notes, outcome: decision === "confirmed" ? notes : "",
                     version: card.dataset.version};
    // Only the details that belong to the chosen decision are sent (the server refuses the others).
    const pick = (selector) => card.querySelector(selector).value;
    if (decision === "confirmed") {
      request.engaged = pick(".engaged");
      request.result = pick(".result");
    } else if (decision === "not_a_match") {
      request.demographics = {ethnicity: pick(".ethnicity"), perceived_sex: pick(".perceived-sex"),
                              age_band: pick(".age-band")};
    }
    const response = await fetch("/alerts/" + id + "/adjudicate/", {
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
    render(body.alert, false);
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
