{% load static %}// The live pages' service worker (scope /alerts/). It shows a new alert as a notification when the page that
// heard it over its socket is hidden (static/js/background_alerts.js asks it) and, with Web Push on, when the
// push service wakes it for an officer whose page is closed. No fetch handler: nothing is cached.
"use strict";
importScripts("{% static 'js/alert_notification.js' %}");

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let alert = null;
  try { alert = event.data ? event.data.json() : null; } catch (err) { alert = null; }
  const shown = alert && alert.alert_id ? self.lfrAlertNotification(alert) : {
    title: "Watchlist alert", options: {tag: "alert", body: "Open the live page.", requireInteraction: true,
                                        vibrate: [300, 100, 300, 100, 600], data: {url: "/alerts/"}}};
  event.waitUntil(self.registration.showNotification(shown.title, shown.options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  let url = new URL((event.notification.data && event.notification.data.url) || "/alerts/", self.location.origin);
  if (url.origin !== self.location.origin) url = new URL("/alerts/", self.location.origin);
  event.waitUntil(self.clients.matchAll({type: "window", includeUncontrolled: true}).then((windows) => {
    const open = windows.find((w) => new URL(w.url).pathname === url.pathname);
    return open ? open.focus() : self.clients.openWindow(url.href);
  }));
});
