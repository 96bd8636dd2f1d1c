// Words of the order-status page, in English and Italian (loaded before track.js).
"use strict";

(() => {
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

  window.PROMESSA_TRACK_WORDS = Object.freeze({ TEXT, STATUS, PARCEL, SCAN, TIMELINE_IT });
})();
