// What a background alert says, for the live page (Notification API) and the service worker (Web Push) alike.
// The lock screen is public: the category and the camera, never the person's name or a face.
(function (scope) {
  "use strict";
  scope.lfrAlertNotification = function (alert) {
    return {
      title: "Watchlist alert: " + alert.category + ", camera " + alert.camera,
      options: {
        tag: "alert-" + alert.alert_id,  // one notification per alert, however many ways it arrives
        body: "Open the live page to decide it.",
        requireInteraction: true,
        renotify: false,
        silent: false,
        vibrate: [300, 100, 300, 100, 600],
        data: {url: alert.url, alertId: alert.alert_id},
      },
    };
  };
})(self);
