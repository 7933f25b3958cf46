// Background alerts on the live page: an alert that arrives while this page is hidden (another tab, the phone
// locked) is shown as a notification through the service worker, vibrating; live.js plays the chime. With Web
// Push on (data-push-key), an officer's browser also subscribes, so alerts reach it with the page closed.
(function () {
  "use strict";
  const root = document.getElementById("live");
  const button = document.getElementById("background-alerts");
  const off = document.getElementById("background-alerts-off");
  const status = document.getElementById("background-status");
  if (!root || !button) return;
  const REMEMBER = "lfr-background-alerts-off";  // turned off here: not on again by itself at the next load
  if (!("serviceWorker" in navigator) || !("Notification" in window) || !window.isSecureContext) {
    status.textContent = "This browser cannot alert in the background: keep this page open and in front.";
    return;
  }
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  let registration = null;
  let enabled = false;

  function say(text) { status.textContent = text; }

  function keyText(buffer) {  // base64url, unpadded, as the settings hold the key
    if (!buffer) return "";
    const text = btoa(String.fromCharCode(...new Uint8Array(buffer)));
    return text.replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  async function subscribePush() {
    const key = button.dataset.pushKey;
    if (!key || root.dataset.access !== "adjudicate" || !("PushManager" in window)) return false;
    try {
      let subscription = await registration.pushManager.getSubscription();
      if (subscription && keyText(subscription.options.applicationServerKey) !== key.replace(/=+$/, "")) {
        await subscription.unsubscribe();  // made with a VAPID key since replaced: every push would be refused
        subscription = null;
      }
      subscription = subscription ||
        await registration.pushManager.subscribe({userVisibleOnly: true, applicationServerKey: key});
      const response = await fetch(button.dataset.subscribe, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
        body: JSON.stringify(subscription.toJSON()),
      });
      return response.ok;
    } catch (err) {
      return false;  // no push service reachable from this browser: the page still alerts while open
    }
  }

  function turnOn() {
    enabled = true;
    localStorage.removeItem(REMEMBER);
    button.hidden = true;
    off.hidden = false;
    root.dataset.backgroundAlerts = "on";
    say("Background alerts on: alerts show as notifications while this page is hidden.");
    // Not awaited: with no push service reachable (an offline network) subscribing may never finish.
    subscribePush().then((ok) => { if (ok && enabled) say("Background alerts on, also with this page closed."); });
  }

  async function ready() {
    registration = await navigator.serviceWorker.register(button.dataset.worker, {scope: button.dataset.scope});
    registration = await navigator.serviceWorker.ready;
    if (Notification.permission === "granted" && !localStorage.getItem(REMEMBER)) {
      turnOn();
    } else if (Notification.permission === "denied") {
      say("Notifications are blocked for this site in the browser's settings: background alerts are off.");
    } else {
      button.hidden = false;
    }
  }

  button.addEventListener("click", async () => {
    const permission = await Notification.requestPermission();  // browsers ask only after a tap
    if (permission === "granted") {
      turnOn();
    } else {
      say("Not allowed: background alerts are off. Keep this page open and in front.");
    }
  });

  off.addEventListener("click", async () => {
    enabled = false;
    localStorage.setItem(REMEMBER, "1");
    off.hidden = true;
    button.hidden = false;
    root.dataset.backgroundAlerts = "off";
    say("Background alerts off: keep this page open and in front.");
    const subscription = await registration.pushManager.getSubscription().catch(() => null);
    if (subscription) {
      await fetch(off.dataset.unsubscribe, {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": csrf},
        body: JSON.stringify({endpoint: subscription.endpoint}),
      }).catch(() => {});
      await subscription.unsubscribe().catch(() => {});
    }
  });

  root.addEventListener("lfr:alert-arrived", (event) => {
    if (!enabled || !registration || document.visibilityState !== "hidden") return;
    const alert = event.detail;
    const shown = self.lfrAlertNotification({alert_id: alert.id, deployment_id: alert.deployment_id,
                                             category: alert.subject.category, camera: alert.camera.name,
                                             url: location.pathname});
    registration.showNotification(shown.title, shown.options).catch(() => {});
  });

  ready().catch(() => say("Background alerts could not start in this browser."));
})();
