// A small graphql-transport-ws client for one subscription that takes `after`: connection_init,
// subscribe, ping/pong, reconnect with backoff and jitter, resume from the last sequence seen,
// and RESYNC_REQUIRED handled by following live and asking the page to fetch the state again.
// Loaded before track.js; nothing here knows about orders.
"use strict";

(() => {
  const PING_EVERY_MS = 15000;
  const PONG_WITHIN_MS = 10000;
  const ACK_WITHIN_MS = 10000;
  const MAX_BACKOFF_MS = 30000;
  const FATAL_CLOSE = new Set([4400, 4403, 4406]);

  class LiveSubscription {
    // options: url, query, operationName, field (the subscription's root field), variables
    // (without `after`), after (where to start), and handlers { state, event, resync }.
    constructor(options) {
      this.options = options;
      this.handlers = options.handlers;
      this.after = options.after; // where to start; later, the last sequence seen
      this.resynced = false;
      this.attempt = 0;
      this.ops = 0;
      this.ws = null;
      this.timers = {};
      this.stopped = false;
      this.onOnline = () => this.reconnectNow();
      this.onVisible = () => { if (document.visibilityState === "visible") this.reconnectNow(); };
      window.addEventListener("online", this.onOnline);
      document.addEventListener("visibilitychange", this.onVisible);
    }

    start() {
      this.connect();
    }

    stop() {
      this.stopped = true;
      this.clearTimers();
      window.removeEventListener("online", this.onOnline);
      document.removeEventListener("visibilitychange", this.onVisible);
      if (this.ws) this.ws.close(1000, "done");
      this.ws = null;
    }

    clearTimers() {
      for (const name of Object.keys(this.timers)) {
        clearTimeout(this.timers[name]);
        clearInterval(this.timers[name]);
      }
      this.timers = {};
    }

    connect() {
      this.clearTimers();
      this.handlers.state(this.attempt ? "reconnecting" : "connecting");
      const ws = new WebSocket(this.options.url, "graphql-transport-ws");
      this.ws = ws;
      ws.addEventListener("open", () => {
        this.send({ type: "connection_init", payload: {} });
        this.timers.ack = setTimeout(() => ws.close(4408, "no connection_ack"), ACK_WITHIN_MS);
      });
      ws.addEventListener("message", (e) => {
        if (ws !== this.ws) return;
        let message;
        try { message = JSON.parse(e.data); } catch { ws.close(4400, "bad message"); return; }
        this.receive(message);
      });
      ws.addEventListener("close", (e) => {
        if (ws !== this.ws) return;
        this.ws = null;
        this.clearTimers();
        if (this.stopped) return;
        if (FATAL_CLOSE.has(e.code)) { this.fail(); return; }
        this.retryLater();
      });
    }

    send(message) {
      if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
    }

    receive(message) {
      switch (message.type) {
        case "connection_ack":
          clearTimeout(this.timers.ack);
          this.attempt = 0;
          this.handlers.state("live");
          this.subscribe();
          this.keepAlive();
          break;
        case "ping":
          this.send({ type: "pong" });
          break;
        case "pong":
          clearTimeout(this.timers.pong);
          break;
        case "next":
          if (message.id === this.id) this.next(message.payload || {});
          break;
        case "error":
          if (message.id === this.id) this.refused(message.payload || []);
          break;
        case "complete":
          // the server ended the stream (e.g. shutting down): come back and resume
          if (message.id === this.id && this.ws) this.ws.close(1000, "resume");
          break;
        default:
          break;
      }
    }

    subscribe() {
      this.ops += 1;
      this.id = String(this.ops);
      const { query, operationName, variables } = this.options;
      this.send({ type: "subscribe", id: this.id,
                  payload: { query, operationName, variables: { ...variables, after: this.after } } });
      if (this.after === null && !this.resynced) {
        // following live only (the replay was refused): fetch the state once the stream is on
        this.resynced = true;
        this.handlers.resync();
      }
    }

    next(payload) {
      const event = payload.data && payload.data[this.options.field];
      if (!event) return;
      this.after = event.sequence;
      this.handlers.event(event);
    }

    refused(errors) {
      const codes = errors.map((e) => e.extensions && e.extensions.code);
      if (codes.includes("RESYNC_REQUIRED")) {
        // what we missed is past retention: follow live, and the page fetches the state
        this.after = null;
        this.resynced = false;
        this.subscribe();
        return;
      }
      this.fail();
    }

    keepAlive() {
      this.timers.ping = setInterval(() => {
        this.send({ type: "ping" });
        clearTimeout(this.timers.pong);
        this.timers.pong = setTimeout(() => { if (this.ws) this.ws.close(4499, "no pong"); },
          PONG_WITHIN_MS);
      }, PING_EVERY_MS);
    }

    retryLater() {
      const ceiling = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempt);
      const delay = ceiling / 2 + Math.random() * (ceiling / 2);
      this.attempt += 1;
      this.handlers.state("reconnecting");
      this.timers.retry = setTimeout(() => this.connect(), delay);
    }

    reconnectNow() {
      if (!this.stopped && !this.ws && this.timers.retry) this.connect();
    }

    fail() {
      this.stop();
      this.handlers.state("offline");
    }
  }

  window.PromessaLiveSubscription = LiveSubscription;
})();
