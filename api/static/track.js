// Promessa order-status page: look an order up with trackOrder(number, email) and follow it
// live over graphql-transport-ws (orderEvents with `after` resume). Vanilla JS, no build step,
// nothing loaded from elsewhere; no inline code or styles, so a strict CSP can apply.
"use strict";

(() => {
  // --- words --------------------------------------------------------------------------------

  const TEXT = {
    en: {
      skip: "Skip to content", language: "Language", title: "Track your order",
      intro: "Enter the order number and the email you used for the order.",
      number: "Order number", numberHint: "It starts with PR-, for example PR-000123.",
      email: "Email", lookup: "Show my order", looking: "Looking up…", order: "Order",
      status: "Status", shipments: "Shipments", items: "Items", timeline: "What happened",
      returns: "Returns", another: "Look up another order",
      notFound: "We could not find an order with this number and email. Check both and try again.",
      missing: "Enter both the order number and the email.",
      failed: "We could not look up your order right now. Please try again in a moment.",
      live: "Live: this page updates by itself.",
      connecting: "Connecting for live updates…",
      reconnecting: "Connection lost: reconnecting…",
      offline: "Live updates are unavailable. Reload the page to see the latest status.",
      updated: "Order updated:", placedOn: "Ordered on", delivery: "Delivery",
      ship: "Home delivery", pickup: "Pickup in store", window: "Expected delivery",
      pickupStore: "Pickup store", readyBy: "Ready by", parcel: "Parcel",
      carrier: "Carrier", trackingNumber: "Tracking number", shippedAt: "Shipped on", deliveredAt: "Delivered on",
      noShipments: "Nothing has been handed to a carrier yet.",
    },
    it: {
      skip: "Vai al contenuto", language: "Lingua", title: "Traccia il tuo ordine",
      intro: "Inserisci il numero d'ordine e l'email che hai usato per l'ordine.",
      number: "Numero d'ordine", numberHint: "Inizia con PR-, per esempio PR-000123.",
      email: "Email", lookup: "Mostra il mio ordine", looking: "Ricerca in corso…",
      order: "Ordine", status: "Stato", shipments: "Spedizioni", items: "Articoli",
      timeline: "Cosa è successo", returns: "Resi", another: "Cerca un altro ordine",
      notFound: "Non abbiamo trovato un ordine con questo numero e questa email. " +
        "Controlla entrambi e riprova.",
      missing: "Inserisci sia il numero d'ordine sia l'email.",
      failed: "Al momento non riusciamo a cercare il tuo ordine. Riprova tra poco.",
      live: "In tempo reale: questa pagina si aggiorna da sola.",
      connecting: "Connessione agli aggiornamenti in tempo reale…",
      reconnecting: "Connessione persa: nuovo tentativo in corso…",
      offline: "Aggiornamenti in tempo reale non disponibili. Ricarica la pagina per lo stato più recente.",
      updated: "Ordine aggiornato:", placedOn: "Ordinato il", delivery: "Consegna",
      ship: "Consegna a domicilio", pickup: "Ritiro in negozio", window: "Consegna prevista",
      pickupStore: "Negozio di ritiro", readyBy: "Pronto entro", parcel: "Pacco",
      carrier: "Corriere", trackingNumber: "Numero di tracciamento", shippedAt: "Spedito il",
      deliveredAt: "Consegnato il",
      noShipments: "Nessun pacco è ancora stato affidato al corriere.",
    },
  };

  // Order status → [short label, plain words].
  const STATUS = {
    en: {
      PLACED: ["Order received", "We have your order and are checking stock."],
      ALLOCATED: ["Confirmed", "Your items are reserved for you and will be prepared soon."],
      PARTIALLY_ALLOCATED: ["Partly confirmed", "Some items are reserved; we are finding the rest."],
      BACKORDERED: ["Awaiting stock", "Some items are on their way to us; we will send them as soon as they arrive."],
      IN_FULFILLMENT: ["Being prepared", "We are picking and packing your items."],
      PARTIALLY_SHIPPED: ["Partly shipped", "Part of your order is on its way; the rest will follow."],
      SHIPPED: ["Shipped", "Your order is on its way."],
      READY_FOR_PICKUP: ["Ready for pickup", "Your order is waiting for you at the store."],
      DELIVERED: ["Delivered", "Your order has been delivered."],
      COMPLETED: ["Completed", "Your order is complete. Thank you!"],
      ON_HOLD: ["On hold", "We paused your order for a check; we will contact you if we need anything."],
      CANCELLED: ["Cancelled", "This order was cancelled."],
      PARTIALLY_RETURNED: ["Partly returned", "Part of your order has been returned."],
      RETURNED: ["Returned", "Your order has been returned."],
    },
    it: {
      PLACED: ["Ordine ricevuto", "Abbiamo ricevuto il tuo ordine e stiamo verificando la disponibilità."],
      ALLOCATED: ["Confermato", "I tuoi articoli sono riservati per te e saranno preparati a breve."],
      PARTIALLY_ALLOCATED: ["Confermato in parte", "Alcuni articoli sono riservati; stiamo cercando gli altri."],
      BACKORDERED: ["In attesa di merce", "Alcuni articoli stanno arrivando da noi: li spediremo appena disponibili."],
      IN_FULFILLMENT: ["In preparazione", "Stiamo prelevando e imballando i tuoi articoli."],
      PARTIALLY_SHIPPED: ["Spedito in parte", "Una parte dell'ordine è in viaggio; il resto seguirà."],
      SHIPPED: ["Spedito", "Il tuo ordine è in viaggio."],
      READY_FOR_PICKUP: ["Pronto per il ritiro", "Il tuo ordine ti aspetta in negozio."],
      DELIVERED: ["Consegnato", "Il tuo ordine è stato consegnato."],
      COMPLETED: ["Completato", "Il tuo ordine è completato. Grazie!"],
      ON_HOLD: ["In sospeso", "Abbiamo messo in pausa l'ordine per una verifica; ti contatteremo se serve qualcosa."],
      CANCELLED: ["Annullato", "Questo ordine è stato annullato."],
      PARTIALLY_RETURNED: ["Reso in parte", "Una parte dell'ordine è stata resa."],
      RETURNED: ["Reso", "Il tuo ordine è stato reso."],
    },
  };
  const TONE = {
    DELIVERED: "good", COMPLETED: "good", READY_FOR_PICKUP: "good", CANCELLED: "bad",
    ON_HOLD: "warn", BACKORDERED: "warn", PARTIALLY_ALLOCATED: "warn",
  };

  const PARCEL = {
    en: {
      ASSIGNED: "Waiting to be prepared", ACCEPTED: "Being prepared", PICKED: "Being prepared",
      PACKED: "Packed", SHIPPED: "Shipped", IN_TRANSIT: "On its way",
      OUT_FOR_DELIVERY: "Out for delivery", READY_FOR_PICKUP: "Ready for pickup",
      DELIVERED: "Delivered", DELIVERY_FAILED: "Delivery attempt failed", CANCELLED: "Cancelled",
    },
    it: {
      ASSIGNED: "In attesa di preparazione", ACCEPTED: "In preparazione", PICKED: "In preparazione",
      PACKED: "Imballato", SHIPPED: "Spedito", IN_TRANSIT: "In viaggio",
      OUT_FOR_DELIVERY: "In consegna", READY_FOR_PICKUP: "Pronto per il ritiro",
      DELIVERED: "Consegnato", DELIVERY_FAILED: "Consegna non riuscita", CANCELLED: "Annullato",
    },
  };

  const SCAN = {
    en: {
      LABEL_CREATED: "Label created", PICKED_UP: "Picked up by the carrier",
      IN_TRANSIT: "In transit", OUT_FOR_DELIVERY: "Out for delivery", DELAYED: "Delayed",
      DELIVERY_FAILED: "Delivery attempt failed", DELIVERED: "Delivered",
    },
    it: {
      LABEL_CREATED: "Etichetta creata", PICKED_UP: "Ritirato dal corriere",
      IN_TRANSIT: "In transito", OUT_FOR_DELIVERY: "In consegna", DELAYED: "In ritardo",
      DELIVERY_FAILED: "Tentativo di consegna non riuscito", DELIVERED: "Consegnato",
    },
  };

  // The server words the timeline in English; Italian follows the entry's type (entries of an
  // unknown type keep the server's words).
  const TIMELINE_IT = {
    ORDER_PLACED: "Abbiamo ricevuto il tuo ordine",
    ALLOCATED: "I tuoi articoli sono riservati per te",
    BACKORDERED: "Alcuni articoli sono in arrivo: li spediremo appena disponibili",
    FULFILLMENT_ACCEPTED: "Stiamo preparando il tuo ordine",
    FULFILLMENT_PACKED: "I tuoi articoli sono imballati",
    FULFILLMENT_SHIPPED: "Il tuo pacco è stato affidato al corriere",
    FULFILLMENT_READY_FOR_PICKUP: "Pronto per il ritiro in negozio",
    FULFILLMENT_DELIVERED: "Ritirato in negozio: buon divertimento!",
    TRACKING_IN_TRANSIT: "In viaggio",
    TRACKING_OUT_FOR_DELIVERY: "In consegna",
    TRACKING_DELIVERY_FAILED: "Tentativo di consegna non riuscito",
    TRACKING_DELIVERED: "Consegnato",
    TRACKING_DELAYED: "La consegna è in ritardo",
    PROMISE_MOVED: "Il tuo pacco è in ritardo: vedi la nuova data prevista",
    ORDER_CANCELLED: "Ordine annullato",
    LINES_CANCELLED: "Alcuni articoli sono stati annullati",
    SHIPPING_ADDRESS_UPDATED: "Il tuo indirizzo di consegna è stato aggiornato",
    BACKORDER_ALLOCATED: "Gli articoli attesi sono arrivati e li stiamo preparando",
  };

  // --- GraphQL documents --------------------------------------------------------------------

  const TRACKED = `fragment Tracked on TrackedOrder {
    number status placedAt deliveryMethod readyBy
    promisedDelivery { earliest latest }
    pickupStore { name timeZone address { line1 city postalCode } }
    lines { sku quantity }
    fulfillments {
      status carrier trackingNumber shippedAt deliveredAt
      trackingEvents { status at location description }
    }
    timeline { at type message }
  }`;
  const TRACK_ORDER = `query TrackOrder($number: String!, $email: String!) {
    trackOrder(number: $number, email: $email) { ...Tracked }
  } ${TRACKED}`;
  const ORDER_EVENTS = `subscription TrackOrderEvents($number: String!, $email: String!, $after: String) {
    orderEvents(number: $number, email: $email, after: $after) { sequence type at tracking { ...Tracked } }
  } ${TRACKED}`;

  const GRAPHQL_PATH = "/graphql";
  const LANG_KEY = "promessa.track.lang";

  // --- state --------------------------------------------------------------------------------

  const $ = (id) => document.getElementById(id);
  const state = { lang: "en", order: null, credentials: null, live: null, connection: "connecting" };

  function t(key) {
    return TEXT[state.lang][key] || TEXT.en[key] || key;
  }

  function remembered() {
    try { return window.localStorage.getItem(LANG_KEY); } catch { return null; }
  }

  function remember(lang) {
    try { window.localStorage.setItem(LANG_KEY, lang); } catch { /* private mode */ }
  }

  function preferredLanguage() {
    const stored = remembered();
    if (stored && TEXT[stored]) return stored;
    const wanted = navigator.languages && navigator.languages.length
      ? navigator.languages : [navigator.language || "en"];
    for (const tag of wanted) {
      const base = String(tag).toLowerCase().split("-")[0];
      if (TEXT[base]) return base;
    }
    return "en";
  }

  function applyLanguage(lang) {
    state.lang = lang;
    document.documentElement.lang = lang;
    $("lang").value = lang;
    document.title = t("title");
    for (const el of document.querySelectorAll("[data-i18n]")) {
      el.textContent = t(el.dataset.i18n);
    }
    const problem = $("problem");
    if (!problem.hidden && problem.dataset.key) problem.textContent = t(problem.dataset.key);
    showConnection(state.connection);
    if (state.order) render(state.order, { announce: false });
  }

  // --- formatting ---------------------------------------------------------------------------

  function locale() {
    const own = navigator.language || "";
    return own.toLowerCase().startsWith(state.lang) ? own : state.lang;
  }

  function dateTime(iso, timeZone) {
    const options = { dateStyle: "medium", timeStyle: "short" };
    if (timeZone) options.timeZone = timeZone;
    try {
      return new Intl.DateTimeFormat(locale(), options).format(new Date(iso));
    } catch {
      return new Intl.DateTimeFormat(locale(), { dateStyle: "medium", timeStyle: "short" })
        .format(new Date(iso));
    }
  }

  function dayWindow(earliest, latest) {
    const format = new Intl.DateTimeFormat(locale(), {
      weekday: "short", day: "numeric", month: "long", year: "numeric",
    });
    const from = new Date(earliest);
    const to = new Date(latest);
    if (format.format(from) === format.format(to)) return format.format(from);
    return typeof format.formatRange === "function"
      ? format.formatRange(from, to) : `${format.format(from)} – ${format.format(to)}`;
  }

  // --- rendering ----------------------------------------------------------------------------

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function fact(list, label, value) {
    const row = el("div");
    row.append(el("dt", null, label), el("dd", null, value));
    list.append(row);
  }

  function statusWords(status) {
    return STATUS[state.lang][status] || [status, ""];
  }

  function render(order, { announce }) {
    const before = state.order;
    state.order = order;
    $("order-number").textContent = order.number;
    const [label, words] = statusWords(order.status);
    const status = $("status");
    status.textContent = label;
    if (TONE[order.status]) status.dataset.tone = TONE[order.status];
    else delete status.dataset.tone;
    $("status-words").textContent = words;

    renderFacts(order);
    renderShipments(order);
    renderItems(order);
    renderTimeline(order);
    renderReturns(order);

    if (announce && before && before.status !== order.status) {
      $("announcer").textContent = `${t("updated")} ${label}. ${words}`;
    } else if (announce && before && order.timeline.length > before.timeline.length) {
      $("announcer").textContent = `${t("updated")} ${timelineWords(
        order.timeline[order.timeline.length - 1])}`;
    }
  }

  function renderFacts(order) {
    const facts = $("facts");
    facts.replaceChildren();
    fact(facts, t("placedOn"), dateTime(order.placedAt));
    const pickup = order.deliveryMethod === "PICKUP";
    fact(facts, t("delivery"), t(pickup ? "pickup" : "ship"));
    if (pickup && order.pickupStore) {
      const store = order.pickupStore;
      const where = [store.address.line1, `${store.address.postalCode} ${store.address.city}`];
      fact(facts, t("pickupStore"), `${store.name} — ${where.join(", ")}`);
    }
    if (pickup && order.readyBy) {
      fact(facts, t("readyBy"), dateTime(order.readyBy, order.pickupStore && order.pickupStore.timeZone));
    } else if (!pickup && order.promisedDelivery) {
      fact(facts, t("window"), dayWindow(order.promisedDelivery.earliest, order.promisedDelivery.latest));
    }
  }

  function renderShipments(order) {
    const list = $("shipments");
    list.replaceChildren();
    // rejected work is re-sourced elsewhere: it is not a parcel the customer will get
    const parcels = order.fulfillments.filter((f) => f.status !== "REJECTED");
    parcels.forEach((f, i) => {
      const item = el("li");
      const head = el("p", "carrier");
      const name = parcels.length > 1 ? `${t("parcel")} ${i + 1}: ` : "";
      head.textContent = `${name}${PARCEL[state.lang][f.status] || f.status}`;
      item.append(head);
      if (f.carrier) item.append(el("p", null, `${t("carrier")}: ${f.carrier}`));
      if (f.trackingNumber) {
        const line = el("p", null, `${t("trackingNumber")}: `);
        line.append(el("span", "tracking", f.trackingNumber));
        item.append(line);
      }
      if (f.deliveredAt) item.append(el("p", null, `${t("deliveredAt")} ${dateTime(f.deliveredAt)}`));
      else if (f.shippedAt) item.append(el("p", null, `${t("shippedAt")} ${dateTime(f.shippedAt)}`));
      if (f.trackingEvents.length) {
        const scans = el("ul", "scans");
        for (const s of [...f.trackingEvents].reverse()) {
          const where = s.location ? ` — ${s.location}` : "";
          const said = s.description ? ` (${s.description})` : "";
          scans.append(el("li", null,
            `${dateTime(s.at)}: ${SCAN[state.lang][s.status] || s.status}${where}${said}`));
        }
        item.append(scans);
      }
      list.append(item);
    });
    $("shipments-box").hidden = parcels.length === 0;
  }

  function renderItems(order) {
    const list = $("items");
    list.replaceChildren();
    for (const line of order.lines) {
      const item = el("li");
      item.append(el("span", "sku", line.sku), el("span", null, `× ${line.quantity}`));
      list.append(item);
    }
  }

  function timelineWords(entry) {
    return state.lang === "it" ? TIMELINE_IT[entry.type] || entry.message : entry.message;
  }

  function renderTimeline(order) {
    const list = $("timeline");
    list.replaceChildren();
    for (const entry of [...order.timeline].reverse()) {
      const item = el("li");
      const when = el("time", null, dateTime(entry.at));
      when.dateTime = entry.at;
      item.append(when, el("span", null, timelineWords(entry)));
      list.append(item);
    }
  }

  // RETURNS HOOK ----------------------------------------------------------------------------
  // When the API offers returnEligibility(orderNumber, email) and requestReturn, fill
  // #returns-body here (for eligible lines: a "start a return" form that calls requestReturn
  // with state.credentials) and un-hide #returns. Called on every render, in state.lang.
  function renderReturns(_order) {
    $("returns").hidden = true;
  }

  // --- connection status ----------------------------------------------------------------------

  function showConnection(name) {
    state.connection = name;
    const line = $("connection");
    line.dataset.state = name;
    line.textContent = t(name);
  }

  // --- HTTP ---------------------------------------------------------------------------------

  async function graphql(query, variables, operationName) {
    const response = await fetch(GRAPHQL_PATH, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({ query, variables, operationName }),
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const body = await response.json();
    if (body.errors && body.errors.length) throw new Error(body.errors[0].message);
    return body.data;
  }

  async function fetchOrder(credentials) {
    const data = await graphql(TRACK_ORDER, credentials, "TrackOrder");
    return data.trackOrder;
  }

  // --- live updates: a graphql-transport-ws client ----------------------------------------------

  const PING_EVERY_MS = 15000;
  const PONG_WITHIN_MS = 10000;
  const ACK_WITHIN_MS = 10000;
  const MAX_BACKOFF_MS = 30000;
  const FATAL_CLOSE = new Set([4400, 4403, 4406]);

  class LiveOrder {
    constructor(credentials, handlers) {
      this.credentials = credentials;
      this.handlers = handlers;
      this.after = "0"; // replay the order's stream, then live; later: the last sequence seen
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

    url() {
      const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
      return `${scheme}//${window.location.host}${GRAPHQL_PATH}`;
    }

    connect() {
      this.clearTimers();
      this.handlers.state(this.attempt ? "reconnecting" : "connecting");
      const ws = new WebSocket(this.url(), "graphql-transport-ws");
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
      const variables = { ...this.credentials, after: this.after };
      this.send({ type: "subscribe", id: this.id,
                  payload: { query: ORDER_EVENTS, variables, operationName: "TrackOrderEvents" } });
      if (this.after === null && !this.resynced) {
        // following live only (the replay was refused): fetch the state once the stream is on
        this.resynced = true;
        this.handlers.resync();
      }
    }

    next(payload) {
      const event = payload.data && payload.data.orderEvents;
      if (!event) return;
      this.after = event.sequence;
      this.handlers.event(event);
    }

    refused(errors) {
      const codes = errors.map((e) => e.extensions && e.extensions.code);
      if (codes.includes("RESYNC_REQUIRED")) {
        // what we missed is past retention: follow live and take the state from trackOrder
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

  function follow(credentials) {
    if (state.live) state.live.stop();
    state.live = new LiveOrder(credentials, {
      state: showConnection,
      event(event) {
        if (event.tracking) render(event.tracking, { announce: true });
      },
      async resync() {
        try {
          const order = await fetchOrder(credentials);
          if (order) render(order, { announce: true });
        } catch { /* the next event brings the state */ }
      },
    });
    state.live.start();
  }

  // --- the form -----------------------------------------------------------------------------

  function showProblem(key) {
    const problem = $("problem");
    problem.dataset.key = key;
    problem.textContent = t(key);
    problem.hidden = false;
  }

  function clearProblem() {
    const problem = $("problem");
    problem.hidden = true;
    problem.textContent = "";
    delete problem.dataset.key;
  }

  async function lookUp(number, email) {
    clearProblem();
    if (!number || !email) {
      showProblem("missing");
      (number ? $("email") : $("number")).focus();
      return;
    }
    const button = $("submit");
    button.disabled = true;
    button.textContent = t("looking");
    let order;
    try {
      order = await fetchOrder({ number, email });
    } catch {
      showProblem("failed");
      return;
    } finally {
      button.disabled = false;
      button.textContent = t("lookup");
    }
    if (!order) {
      // the same words for an unknown number and for a wrong email
      showProblem("notFound");
      return;
    }
    state.credentials = { number, email };
    state.order = null;
    render(order, { announce: false });
    $("lookup").hidden = true;
    $("result").hidden = false;
    $("order-heading").focus();
    follow(state.credentials);
  }

  function lookUpAnother() {
    if (state.live) state.live.stop();
    state.live = null;
    state.order = null;
    state.credentials = null;
    $("result").hidden = true;
    $("lookup").hidden = false;
    $("email").value = "";
    $("number").value = "";
    $("number").focus();
  }

  // A link may carry the order in its fragment (#number=…&email=…): it never reaches the
  // server. Read it once, then drop it from the address bar and the history entry.
  function fromFragment() {
    const hash = window.location.hash.replace(/^#/, "");
    if (!hash) return null;
    const params = new URLSearchParams(hash);
    const number = (params.get("number") || "").trim();
    const email = (params.get("email") || "").trim();
    window.history.replaceState(null, "", window.location.pathname + window.location.search);
    return number || email ? { number, email } : null;
  }

  function start() {
    applyLanguage(preferredLanguage());
    $("lang").addEventListener("change", (e) => {
      remember(e.target.value);
      applyLanguage(e.target.value);
    });
    $("lookup").addEventListener("submit", (e) => {
      e.preventDefault();
      lookUp($("number").value.trim(), $("email").value.trim());
    });
    $("another").addEventListener("click", lookUpAnother);
    const given = fromFragment();
    if (given) {
      $("number").value = given.number;
      $("email").value = given.email;
      lookUp(given.number, given.email);
    } else {
      $("number").focus();
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
