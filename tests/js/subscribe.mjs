// graphql-ws (the npm client front-ends use) against Promessa's orderEvents with `after` resume.
//
//   node subscribe.mjs BASE_URL ORDER_NUMBER FULFILLMENT_ID CUSTOMER_TOKEN STORE_TOKEN
//
// 1. Connect, follow the order from the start of its stream (after "0") and accept its
//    fulfillment: read until FULFILLMENT_ACCEPTED, remember its sequence, disconnect.
// 2. While disconnected, the store picks and packs (over HTTP).
// 3. Reconnect with after = the remembered sequence and ship: the missed events arrive first,
//    then the new one — every sequence once, in order.
// 4. A third connection replays the whole stream to check step 3 got exactly what was missed.
// Prints one JSON object; exits non-zero on any failure.
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [base, number, fulfillmentId, customerToken, storeToken] = process.argv.slice(2);
if (!storeToken) {
  console.error("usage: node subscribe.mjs BASE_URL ORDER_NUMBER FULFILLMENT_ID CUSTOMER_TOKEN STORE_TOKEN");
  process.exit(2);
}
const wsUrl = base.replace(/^http/, "ws") + "/graphql";

const ORDER_EVENTS = `subscription OrderEvents($number: String, $after: String) {
  orderEvents(number: $number, after: $after) { sequence type at order { number status } }
}`;

const STEP = (name, input) => `mutation Step($input: ${input}!) {
  ${name}(input: $input) { fulfillment { id status } userErrors { field message code } }
}`;

async function step(name, input, extra = {}) {
  const response = await fetch(`${base}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${storeToken}` },
    body: JSON.stringify({ query: STEP(name, input),
                           variables: { input: { fulfillmentId, ...extra } } }),
  });
  const body = await response.json();
  const payload = body.data && body.data[name];
  if (!payload || payload.userErrors.length) {
    throw new Error(`${name} failed: ${JSON.stringify(body)}`);
  }
}

const sockets = []; // "connected" / "closed", in the order they happened

function connect() {
  return createClient({
    url: wsUrl,
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${customerToken}` },
    retryAttempts: 0,
    lazy: true,
    on: {
      connected: () => { sockets.push("connected"); },
      closed: () => { sockets.push("closed"); },
    },
  });
}

// Follow the order from `after`, run `action` once subscribed, read until an event of type
// `until` arrives (or fail after a while), then dispose of the client (closing its socket).
async function follow(after, action, until) {
  const client = connect();
  const seen = [];
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${until} within 20 s: ${JSON.stringify(seen)}`)), 20000);
    const unsubscribe = client.subscribe(
      { query: ORDER_EVENTS, variables: { number, after } },
      {
        next: ({ data, errors }) => {
          if (errors) { clearTimeout(timer); reject(new Error(JSON.stringify(errors))); return; }
          seen.push(data.orderEvents);
          if (data.orderEvents.type === until) { clearTimeout(timer); unsubscribe(); resolve(); }
        },
        error: (err) => { clearTimeout(timer); reject(err instanceof Error ? err : new Error(JSON.stringify(err))); },
        complete: () => {},
      },
    );
  });
  try {
    if (action) await action();
    await done;
  } finally {
    await client.dispose();
  }
  return seen;
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

function consecutive(events, from) {
  events.forEach((e, i) => check(Number(e.sequence) === from + i,
    `sequence ${e.sequence} at position ${i}, expected ${from + i}: ${JSON.stringify(events)}`));
}

try {
  const first = await follow("0", () => step("acceptFulfillment", "FulfillmentActionInput"),
                             "FULFILLMENT_ACCEPTED");
  consecutive(first, 1);
  const last = Number(first[first.length - 1].sequence);

  await step("pickFulfillment", "FulfillmentActionInput");
  await step("packFulfillment", "FulfillmentActionInput");

  const resumed = await follow(String(last), () => step(
    "shipFulfillment", "ShipFulfillmentInput", { carrier: "BRT", trackingNumber: "BRT-NODE-1" }),
    "FULFILLMENT_SHIPPED");
  consecutive(resumed, last + 1);

  const everything = await follow("0", null, "FULFILLMENT_SHIPPED");
  consecutive(everything, 1);
  const missed = everything.filter((e) => Number(e.sequence) > last);
  check(JSON.stringify(missed.map((e) => [e.sequence, e.type])) ===
        JSON.stringify(resumed.map((e) => [e.sequence, e.type])),
        `resumed ${JSON.stringify(resumed)} is not what was missed ${JSON.stringify(missed)}`);

  console.log(JSON.stringify({
    first: first.map((e) => e.type),
    lastSeen: String(last),
    resumed: resumed.map((e) => [e.sequence, e.type]),
    // `order` is the order as it is when an event is delivered (so replays show it shipped)
    shippedStatus: resumed[resumed.length - 1].order.status,
    replayed: everything.length,
    // the last socket may still be closing when this prints
    sockets: sockets.slice(0, 5),
  }));
  process.exit(0);
} catch (err) {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
}
