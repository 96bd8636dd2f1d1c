// Promessa order-status page: look an order up with trackOrder(number, email) and follow it
// live over graphql-transport-ws (orderEvents with `after` resume). Vanilla JS, no build step,
// nothing loaded from elsewhere; no inline code or styles, so a strict CSP can apply.
"use strict";

(() => {
  // --- words (api/static/track-words.js) -------------------------------------------------

  const { TEXT, STATUS, PARCEL, SCAN, TIMELINE_IT, DOCUMENT } = window.PROMESSA_TRACK_WORDS;
  const TONE = {
    DELIVERED: "good", COMPLETED: "good", READY_FOR_PICKUP: "good", CANCELLED: "bad",
    ON_HOLD: "warn", BACKORDERED: "warn", PARTIALLY_ALLOCATED: "warn",
  };

  // --- GraphQL documents --------------------------------------------------------------------

  const TRACKED = `fragment Tracked on TrackedOrder {
    number status placedAt deliveryMethod readyBy pickupCode
    promisedDelivery { earliest latest }
    pickupStore {
      name timeZone address { line1 city postalCode }
      openingHours { upcoming(days: 7) { date closed periods { opens closes } } }
    }
    lines { sku quantity }
    fulfillments {
      status carrier trackingNumber shippedAt deliveredAt
      trackingEvents { status at location description }
    }
    timeline { at type message }
    documents { kind number issuedAt url }
    ${window.PromessaTrackReturns.RETURN_FIELDS}
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
  const state = { lang: "en", order: null, credentials: null, live: null, connection: "connecting",
                  returns: null };

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

  // The store's next seven days, each on its own line ("Wed 2 Jan 09:30–19:30"). Dates are
  // the store's own calendar dates: formatted at noon UTC so no zone moves them to another day.
  function openingHours(store) {
    const format = new Intl.DateTimeFormat(locale(), {
      weekday: "short", day: "numeric", month: "short", timeZone: "UTC",
    });
    const list = el("ul", "hours");
    for (const day of store.openingHours.upcoming) {
      const when = format.format(new Date(`${day.date}T12:00:00Z`));
      const times = day.closed ? t("closed")
        : day.periods.map((p) => `${p.opens}–${p.closes}`).join(", ");
      list.append(el("li", null, `${when}: ${times}`));
    }
    return list;
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
    renderDocuments(order);
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
      if (store.openingHours) {
        const row = el("div");
        const value = el("dd");
        value.append(openingHours(store));
        row.append(el("dt", null, t("openingHours")), value);
        facts.append(row);
      }
    }
    if (pickup && order.pickupCode && order.status !== "DELIVERED" && order.status !== "COMPLETED"
        && order.status !== "CANCELLED") {
      fact(facts, t("pickupCode"), order.pickupCode);
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

  // invoices, credit notes and shipping labels as links to their PDFs (signed, expiring:
  // each render brings fresh ones)
  function renderDocuments(order) {
    const list = $("documents");
    list.replaceChildren();
    const shown = (order.documents || []).filter((d) => DOCUMENT.en[d.kind]);
    for (const d of shown) {
      const item = el("li");
      const link = el("a", null, `${DOCUMENT[state.lang][d.kind]} ${d.number}`);
      link.href = d.url;
      link.type = "application/pdf";
      link.target = "_blank";
      link.rel = "noopener";
      item.append(link, el("span", "issued", ` — ${t("issuedOn")} ${dateTime(d.issuedAt)}`));
      list.append(item);
    }
    $("documents-box").hidden = shown.length === 0;
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
    const words = state.lang === "it" && TIMELINE_IT[entry.type];
    if (!words) return entry.message;
    const named = /\b[A-Z]+-\d+-R\d+\b/.exec(entry.message); // a return's number
    return words.replace("{return}", named ? named[0] : "").replace(/\s+/g, " ").trim();
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

  // Returns (api/static/track-returns.js): "start a return" for delivered lines, the order's
  // returns, updated with every render.
  function renderReturns(order) {
    if (!state.returns) {
      state.returns = new window.PromessaTrackReturns.Returns({
        $, el, t, dateTime, graphql, locale,
        lang: () => state.lang,
        credentials: () => state.credentials,
      });
    }
    state.returns.render(order);
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

  function follow(credentials) {
    if (state.live) state.live.stop();
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    state.live = new window.PromessaLiveSubscription({
      url: `${scheme}//${window.location.host}${GRAPHQL_PATH}`,
      query: ORDER_EVENTS,
      operationName: "TrackOrderEvents",
      field: "orderEvents",
      variables: credentials,
      after: "0", // replay the order's stream from its start, then live
      handlers: {
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
    if (state.returns) state.returns.reset();
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
    if (state.returns) state.returns.reset();
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
