// "Start a return" on the order-status page: asks returnEligibility(orderNumber, email) once
// something was delivered, offers the returnable lines in a form that calls requestReturn with
// the guest's number and email, and lists the order's returns (TrackedOrder.returns, which the
// order's live stream keeps current). Loaded before track.js, which calls it on every render.
// EXCHANGE is not offered here: it needs the replacement size/colour chosen from the catalog,
// which this page has no way to list; the service console handles exchanges.
"use strict";

(() => {
  const { RETURNS } = window.PROMESSA_TRACK_WORDS;
  const OFFERED = ["REFUND", "STORE_CREDIT"];
  const ELIGIBILITY = `query TrackReturnEligibility($orderNumber: String!, $email: String) {
    returnEligibility(orderNumber: $orderNumber, email: $email) {
      methods returnShippingPaidBy returnShippingFee { amount currency }
      lines { lineId sku delivered inReturns returnable returnableUntil reason resolutions }
    }
  }`;
  const REQUEST = `mutation TrackRequestReturn($input: RequestReturnInput!) {
    requestReturn(input: $input) {
      return { number status }
      userErrors { field message code }
    }
  }`;
  // what TrackedOrder carries of each return (merged into the page's Tracked fragment)
  const RETURN_FIELDS = `returns {
      number status resolution method requestedAt
      lines { sku quantity }
      refundAmount { amount currency }
      label { carrier trackingNumber url expiresAt }
      dropOff { code location { name address { line1 city postalCode } } }
    }`;

  class Returns {
    // page: { $, el, t, lang(), locale(), dateTime(iso), graphql(query, vars, name), credentials() }
    constructor(page) {
      this.page = page;
      this.eligibility = null;
      this.asked = null; // what the last eligibility question was asked for
      this.asking = 0;
      this.latest = null; // the return this visit requested, shown as the result
      this.order = null;
      this.formKey = null;
      page.$("return-form").addEventListener("submit", (e) => {
        e.preventDefault();
        this.submit();
      });
    }

    words(group, key) {
      const lang = this.page.lang();
      return (RETURNS[lang][group] || {})[key] || RETURNS.en[group][key] || key;
    }

    reset() {
      this.eligibility = null;
      this.asked = null;
      this.latest = null;
      this.order = null;
      this.formKey = null;
      this.asking += 1;
      const { $ } = this.page;
      $("return-result").hidden = true;
      $("return-problem").hidden = true;
      $("returns").hidden = true;
    }

    // Called on every render (a live event, a language switch): the list follows the order;
    // eligibility is asked again only when deliveries or returns changed.
    render(order) {
      this.order = order;
      const delivered = order.fulfillments.some((f) => f.status === "DELIVERED");
      const key = JSON.stringify([order.number, order.fulfillments.map((f) => f.status),
        order.returns.map((r) => [r.number, r.status])]);
      if (delivered && key !== this.asked) {
        this.asked = key;
        this.ask(order.number);
      }
      this.renderList(order.returns);
      this.renderResult();
      this.renderForm();
      this.page.$("returns").hidden = !(order.returns.length || (delivered && this.eligibility));
    }

    async ask(number) {
      const ticket = ++this.asking;
      const { email } = this.page.credentials();
      let found = null;
      try {
        const data = await this.page.graphql(ELIGIBILITY, { orderNumber: number, email },
          "TrackReturnEligibility");
        found = data.returnEligibility;
      } catch { /* no form this time; the next change asks again */ }
      if (ticket !== this.asking) return;
      this.eligibility = found;
      if (this.order) this.render(this.order);
    }

    // --- the list of returns ----------------------------------------------------------------

    renderList(returns) {
      const { $, el } = this.page;
      const list = $("returns-list");
      list.replaceChildren();
      // the return just requested is shown above, as the result
      const others = returns.filter((r) => !this.latest || r.number !== this.latest.number);
      for (const ret of others) list.append(this.card(ret, el("li", "return")));
      $("returns-list-box").hidden = others.length === 0;
    }

    card(ret, box) {
      const { el, t, dateTime } = this.page;
      const head = el("p", "return-head");
      head.append(el("span", "return-number", `${t("returnNumber")} ${ret.number}`),
        el("span", "return-status", this.words("status", ret.status)));
      head.lastChild.dataset.status = ret.status;
      box.append(head);
      const what = ret.lines.map((l) => `${l.sku} × ${l.quantity}`).join(", ");
      box.append(el("p", null, `${what} — ${this.words("resolutions", ret.resolution)}`));
      box.append(el("p", "hint", dateTime(ret.requestedAt)));
      if (ret.resolution === "REFUND" && ret.refundAmount) {
        box.append(el("p", null, `${t("refund")}: ${this.money(ret.refundAmount)}`));
      }
      if (ret.label) {
        const link = el("a", "label-link", t("labelLink"));
        link.href = ret.label.url;
        link.target = "_blank";
        link.rel = "noopener noreferrer";
        link.append(el("span", "visually-hidden", ` ${t("newTab")}`));
        const line = el("p");
        line.append(link);
        box.append(line, el("p", "hint", t("labelHint")));
        box.append(el("p", null, `${t("trackingNumber2")}: ${ret.label.carrier} ${ret.label.trackingNumber}`));
      }
      if (ret.dropOff) {
        const store = ret.dropOff.location;
        const where = `${store.name} — ${store.address.line1}, ${store.address.postalCode} ${store.address.city}`;
        box.append(el("p", null, `${t("dropOffAt")}: ${where}`));
        const code = el("p", null, `${t("dropOffCode")}: `);
        code.append(el("strong", "drop-code", ret.dropOff.code));
        box.append(code);
      }
      return box;
    }

    renderResult() {
      const { $, el, t } = this.page;
      const box = $("return-result");
      if (!this.latest) { box.hidden = true; return; }
      const current = this.order.returns.find((r) => r.number === this.latest.number);
      const heading = el("h4", null, t("returnRequested"));
      heading.id = "return-result-heading";
      box.replaceChildren(heading);
      box.hidden = false;
      if (current) this.card(current, box);
      else box.append(el("p", "return-head", `${t("returnNumber")} ${this.latest.number}: ${
        this.words("status", this.latest.status)}`));
    }

    // --- the form -------------------------------------------------------------------------------

    renderForm() {
      const { $ } = this.page;
      const form = $("return-form");
      const e = this.eligibility;
      // rebuilt only when what it offers or its language changed: a live event must not take
      // the focus or the choices away from someone filling it in
      const key = JSON.stringify([this.page.lang(), e]);
      if (key === this.formKey) return;
      this.formKey = key;
      const offered = (l) => l.returnable > 0 && OFFERED.some((r) => l.resolutions.includes(r));
      const open = e ? e.lines.filter(offered) : [];
      const kept = this.sent ? {} : this.values(); // after a return, start over
      this.sent = false;
      form.hidden = open.length === 0;
      this.renderLines(open, kept);
      this.renderChoices(open, kept);
      this.renderClosed(e ? e.lines.filter((l) => l.delivered > 0 && !offered(l)) : []);
    }

    values() {
      const kept = {};
      for (const input of this.page.$("return-form").querySelectorAll("input, select")) {
        kept[input.id] = input.type === "checkbox" || input.type === "radio"
          ? input.checked : input.value;
      }
      return kept;
    }

    control(tag, id, kept, fallback) {
      const node = document.createElement(tag);
      node.id = id;
      if (fallback.type) {
        node.type = fallback.type;
        node.checked = id in kept ? kept[id] : fallback.checked;
      }
      return node;
    }

    labelled(id, text, control) {
      const { el } = this.page;
      const label = el("label", null, text);
      label.htmlFor = id;
      return [label, control];
    }

    renderLines(open, kept) {
      const { $, el, t } = this.page;
      const box = $("return-lines");
      box.replaceChildren();
      open.forEach((line, i) => {
        const set = el("fieldset", "return-line");
        set.append(el("legend", "sku", line.sku));
        const pick = this.control("input", `ret-${i}-pick`, kept,
          { type: "checkbox", checked: open.length === 1 });
        pick.value = line.lineId;
        const check = el("div", "check");
        const [label] = this.labelled(pick.id, t("returnThis"));
        check.append(pick, label);
        set.append(check);
        const qty = this.select(`ret-${i}-qty`, kept,
          Array.from({ length: line.returnable }, (_, n) => [String(n + 1), String(n + 1)]));
        const reason = this.select(`ret-${i}-reason`, kept,
          Object.keys(RETURNS.en.reasons).map((code) => [code, this.words("reasons", code)]));
        const row = el("div", "return-row");
        const a = el("div", "field");
        a.append(...this.labelled(qty.id, t("returnQuantity"), qty));
        const b = el("div", "field");
        b.append(...this.labelled(reason.id, t("returnReason"), reason));
        row.append(a, b);
        set.append(row);
        if (line.returnableUntil) {
          set.append(el("p", "hint", `${t("returnableUntil")} ${this.lastDay(line.returnableUntil)}`));
        }
        box.append(set);
      });
    }

    select(id, kept, options) {
      const node = this.control("select", id, kept, {});
      for (const [value, text] of options) {
        const option = document.createElement("option");
        option.value = value;
        option.textContent = text;
        node.append(option);
      }
      if (kept[id] && options.some(([v]) => v === kept[id])) node.value = kept[id];
      return node;
    }

    radios(boxId, name, values, group, kept) {
      const { $, el } = this.page;
      const box = $(boxId);
      box.replaceChildren();
      const chosen = values.find((v) => kept[`${name}-${v}`]) || values[0];
      for (const value of values) {
        const radio = this.control("input", `${name}-${value}`, {},
          { type: "radio", checked: value === chosen });
        radio.name = name;
        radio.value = value;
        const row = el("div", "check");
        const label = el("label", null, this.words(group, value));
        label.htmlFor = radio.id;
        row.append(radio, label);
        box.append(row);
      }
    }

    renderChoices(open, kept) {
      const { $, t } = this.page;
      const e = this.eligibility;
      // what every returnable line may come back for (the API refuses a mix in plain words)
      const allowed = OFFERED.filter((r) => open.every((l) => l.resolutions.includes(r)));
      const resolutions = allowed.length ? allowed
        : OFFERED.filter((r) => open.some((l) => l.resolutions.includes(r)));
      this.radios("resolutions", "ret-resolution", resolutions, "resolutions", kept);
      // a label first: the way back that needs no trip to a store
      const methods = e ? [...e.methods].sort((a, b) => (a === "SHIP_BACK" ? -1 : b === "SHIP_BACK" ? 1 : 0)) : [];
      this.radios("methods", "ret-method", methods, "methods", kept);
      const fee = e && e.returnShippingPaidBy === "CUSTOMER" && e.methods.includes("SHIP_BACK")
        && Number(e.returnShippingFee.amount) > 0;
      $("return-fee").textContent = !e || !e.methods.includes("SHIP_BACK") ? ""
        : fee ? t("feeDeducted").replace("{fee}", this.money(e.returnShippingFee)) : t("feeFree");
      this.page.$("return-submit").textContent = t("requestReturn");
    }

    renderClosed(lines) {
      const { $, el } = this.page;
      const list = $("not-returnable");
      list.replaceChildren();
      for (const line of lines) {
        // a line that may only be exchanged has no reason code: the page cannot offer it
        const why = this.words("why", line.reason || "EXCHANGE_ONLY");
        list.append(el("li", null, `${line.sku}: ${why}`));
      }
      $("not-returnable-box").hidden = lines.length === 0;
    }

    // --- sending ------------------------------------------------------------------------------

    chosen() {
      const { $ } = this.page;
      const lines = [];
      for (const pick of $("return-lines").querySelectorAll("input[type=checkbox]")) {
        if (!pick.checked) continue;
        const base = pick.id.replace(/-pick$/, "");
        lines.push({ lineId: pick.value, quantity: Number($(`${base}-qty`).value),
          reason: $(`${base}-reason`).value });
      }
      const radio = (name) => {
        const on = $("return-form").querySelector(`input[name=${name}]:checked`);
        return on ? on.value : null;
      };
      return { lines, resolution: radio("ret-resolution"), method: radio("ret-method") };
    }

    problem(text) {
      const box = this.page.$("return-problem");
      box.textContent = text;
      box.hidden = !text;
    }

    async submit() {
      const { $, t, graphql, credentials } = this.page;
      const { lines, resolution, method } = this.chosen();
      this.problem("");
      if (!lines.length) {
        this.problem(t("pickOne"));
        const first = $("return-lines").querySelector("input[type=checkbox]");
        if (first) first.focus();
        return;
      }
      const { number, email } = credentials();
      const button = $("return-submit");
      // aria-disabled, not disabled: a disabled button drops the keyboard focus to the page
      if (button.getAttribute("aria-disabled") === "true") return;
      button.setAttribute("aria-disabled", "true");
      button.textContent = t("requesting");
      let payload;
      try {
        payload = (await graphql(REQUEST, { input: { orderNumber: number, email, lines,
          resolution, method } }, "TrackRequestReturn")).requestReturn;
      } catch {
        this.problem(t("returnFailed"));
        return;
      } finally {
        button.removeAttribute("aria-disabled");
        button.textContent = t("requestReturn");
      }
      if (payload.userErrors.length) {
        this.problem(payload.userErrors.map((e) => this.refusal(e)).join(" "));
        return;
      }
      this.latest = payload.return;
      this.sent = true;
      this.asked = null; // what is returnable changed: the render asks again
      this.render(this.order);
      $("return-result").focus();
    }

    refusal(error) {
      const lang = this.page.lang();
      return RETURNS[lang].refused[error.code] || RETURNS.en.refused[error.code] || error.message;
    }

    // --- formatting ---------------------------------------------------------------------------

    money(m) {
      try {
        return new Intl.NumberFormat(this.page.locale(), { style: "currency", currency: m.currency })
          .format(Number(m.amount));
      } catch {
        return `${m.amount} ${m.currency}`;
      }
    }

    // returnableUntil is the first moment the window is closed: the last day is the one before
    lastDay(iso) {
      return new Intl.DateTimeFormat(this.page.locale(), { dateStyle: "long" })
        .format(new Date(Date.parse(iso) - 1));
    }
  }

  window.PromessaTrackReturns = { Returns, RETURN_FIELDS };
})();
