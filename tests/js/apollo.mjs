// @apollo/client with its default HttpLink (Node's own fetch) against Promessa: a mutation that
// places an order, queries that read it back (with and without a token), a business refusal
// as userErrors, and an authorization error as a GraphQL error.
//
//   node apollo.mjs BASE_URL CUSTOMER_TOKEN
//
// Prints one JSON object; exits non-zero on any failure.
import { ApolloClient, CombinedGraphQLErrors, HttpLink, InMemoryCache, gql } from "@apollo/client";

const [base, customerToken] = process.argv.slice(2);
if (!customerToken) {
  console.error("usage: node apollo.mjs BASE_URL CUSTOMER_TOKEN");
  process.exit(2);
}

function client(token) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  return new ApolloClient({
    link: new HttpLink({ uri: `${base}/graphql`, headers }),
    cache: new InMemoryCache(),
  });
}

const PLACE_ORDER = gql`
  mutation PlaceOrder($input: PlaceOrderInput!) {
    placeOrder(input: $input) {
      order { id number status total { amount currency } lines { sku quantity status } }
      userErrors { field message code }
    }
  }
`;
const ORDER = gql`
  query Order($number: String!) {
    order(number: $number) { id number status customer { email } }
  }
`;
const TRACK_ORDER = gql`
  query TrackOrder($number: String!, $email: String!) {
    trackOrder(number: $number, email: $email) { number status timeline { type message } }
  }
`;

function orderInput(key, sku) {
  return {
    idempotencyKey: key, channel: "web", currency: "EUR",
    customer: { email: "ada@example.com", name: "Ada Lovelace" },
    lines: [{ sku, quantity: 1 }],
    delivery: {
      method: "SHIP", serviceLevel: "STANDARD",
      address: { line1: "Via Nazionale 10", city: "Roma", postalCode: "00184", country: "IT",
                 latitude: 41.9, longitude: 12.49 },
    },
  };
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

try {
  const ada = client(customerToken);
  const placed = await ada.mutate({
    mutation: PLACE_ORDER, variables: { input: orderInput("apollo-order-0001", "TSHIRT-BLU-M") },
  });
  const payload = placed.data.placeOrder;
  check(payload.userErrors.length === 0, `placeOrder refused: ${JSON.stringify(payload)}`);
  const number = payload.order.number;

  const mine = await ada.query({ query: ORDER, variables: { number } });
  const guest = client(null);
  const tracked = await guest.query({
    query: TRACK_ORDER, variables: { number, email: "ada@example.com" },
  });

  const refused = await ada.mutate({
    mutation: PLACE_ORDER, variables: { input: orderInput("apollo-order-0002", "NO-SUCH-SKU") },
  });

  let denied = null;
  try {
    await guest.query({ query: ORDER, variables: { number } });
  } catch (err) {
    check(CombinedGraphQLErrors.is(err), `unexpected error type: ${err}`);
    denied = err.errors.map((e) => e.extensions && e.extensions.code);
  }

  console.log(JSON.stringify({
    placed: { number, status: payload.order.status, total: payload.order.total,
              lines: payload.order.lines.map(({ sku, quantity, status }) => ({ sku, quantity, status })) },
    order: { number: mine.data.order.number, email: mine.data.order.customer.email,
             status: mine.data.order.status, typename: mine.data.order.__typename },
    tracked: { number: tracked.data.trackOrder.number, status: tracked.data.trackOrder.status,
               timeline: tracked.data.trackOrder.timeline.map((t) => t.type) },
    refused: { order: refused.data.placeOrder.order,
               codes: refused.data.placeOrder.userErrors.map((e) => e.code) },
    denied,
  }));
  process.exit(0);
} catch (err) {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
}
