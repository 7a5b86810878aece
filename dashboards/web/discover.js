// Event search (tra cứu sự kiện): free text plus field:value chips over the stored events of the caller's
// scope, a time range with its histogram, and each hit's raw line with its parsed fields. Times are typed
// and shown in Asia/Ho_Chi_Minh (UTC+7 all year). Log lines are attacker-controlled: textContent only.
(() => {
  "use strict";

  const { t, formatTime } = window.I18n;
  const { $, el, request } = window.Canh;
  const PAGE_SIZE = 50;
  const MINUTE_MS = 60 * 1000;
  const VIETNAM_OFFSET_MS = 7 * 60 * MINUTE_MS;
  const RANGES = { "15m": 15 * MINUTE_MS, "1h": 60 * MINUTE_MS, "24h": 1440 * MINUTE_MS,
    "7d": 7 * 1440 * MINUTE_MS, "30d": 30 * 1440 * MINUTE_MS };
  const SUMMARY_FIELDS = ["event.dataset", "source.ip", "http.request.method", "url.original", "http.response.status_code",
    "user.name", "event.outcome"];

  const state = {
    hooks: null, // { me(), onError(error) -> bool }
    fields: [], // "name:value" chips
    hits: [],
    next: null,
    total: null,
    generation: 0,
    searched: false,
    agencyOptions: () => [],
  };

  // datetime-local values are wall-clock times in Vietnam.
  const toInput = (date) => new Date(date.getTime() + VIETNAM_OFFSET_MS).toISOString().slice(0, 19);
  function fromInput(value) {
    if (!value) return null;
    const moment = Date.parse(`${value.length === 16 ? `${value}:00` : value}+07:00`);
    return Number.isNaN(moment) ? null : new Date(moment);
  }

  function say(key, vars) {
    const box = $("discover-message");
    box.hidden = !key;
    if (key) box.textContent = t(key, vars);
  }

  function showCustom() {
    const custom = $("discover-range").value === "custom";
    $("discover-since-label").hidden = !custom;
    $("discover-until-label").hidden = !custom;
  }

  function bounds() {
    const range = $("discover-range").value;
    if (range === "custom") return { since: fromInput($("discover-since").value), until: fromInput($("discover-until").value) };
    const until = new Date();
    return { since: new Date(until.getTime() - RANGES[range]), until };
  }

  function filterParams() {
    const params = new URLSearchParams();
    const q = $("discover-q").value.trim();
    if (q) params.set("q", q);
    for (const chip of state.fields) params.append("field", chip);
    const { since, until } = bounds();
    if (since) params.set("since", since.toISOString());
    if (until) params.set("until", until.toISOString());
    const agency = $("discover-agency").value;
    if (agency) params.set("agency", agency);
    return params;
  }

  // --- chips ---------------------------------------------------------------------------------

  function addChip(text) {
    const chip = text.trim();
    const name = chip.split(":")[0];
    if (!chip.includes(":") || !name) {
      say("discover.bad_field");
      return false;
    }
    if (!state.fields.includes(chip)) state.fields.push(chip);
    renderChips();
    return true;
  }

  function renderChips() {
    const list = $("discover-chips");
    list.replaceChildren(...state.fields.map((chip) => {
      const item = el("li", null, "field-chip");
      item.dataset.field = chip;
      const remove = el("button", "×", "field-chip-remove");
      remove.type = "button";
      remove.setAttribute("aria-label", t("discover.remove_filter", { filter: chip }));
      remove.addEventListener("click", () => {
        state.fields = state.fields.filter((f) => f !== chip);
        renderChips();
        search();
      });
      item.append(el("span", chip, "mono"), remove);
      return item;
    }));
  }

  // --- searching -----------------------------------------------------------------------------

  function failed(error) {
    if (error.status === 422) {
      const field = error.problem?.errors?.[0];
      say("discover.invalid", { detail: field ? `${field.field}: ${field.message}` : error.message });
    } else if (state.hooks.onError(error)) {
      say("error.generic", { detail: error.message });
    }
  }

  async function search() {
    const generation = ++state.generation;
    state.searched = true;
    say(null);
    const params = filterParams();
    const histogramParams = new URLSearchParams(params);
    params.set("limit", String(PAGE_SIZE));
    const [page, histogram] = await Promise.allSettled([
      request(`/api/v1/events?${params}`, { withHeaders: true }), TimeChart.histogram(histogramParams)]);
    if (generation !== state.generation) return;
    if (page.status === "rejected") {
      state.hits = [];
      state.next = null;
      renderHits();
      return failed(page.reason);
    }
    state.hits = page.value.body;
    state.next = page.value.headers.get("X-Next-Cursor");
    const counted = page.value.headers.get("X-Total-Count");
    state.total = counted !== null ? Number(counted) : histogram.value?.total ?? null;
    renderHits();
    renderHistogram(histogram);
  }

  async function more() {
    if (!state.next) return;
    const generation = state.generation;
    const params = filterParams();
    params.set("limit", String(PAGE_SIZE));
    params.set("cursor", state.next);
    try {
      const page = await request(`/api/v1/events?${params}`, { withHeaders: true });
      if (generation !== state.generation) return;
      state.hits = state.hits.concat(page.body);
      state.next = page.headers.get("X-Next-Cursor");
      renderHits();
    } catch (error) {
      failed(error);
    }
  }

  function interval(seconds) {
    if (seconds % 86400 === 0) return t("unit.days", { n: seconds / 86400 });
    if (seconds % 3600 === 0) return t("unit.hours", { n: seconds / 3600 });
    if (seconds % 60 === 0) return t("unit.minutes", { n: seconds / 60 });
    return t("unit.seconds", { n: seconds });
  }

  function renderHistogram(result) {
    const canvas = $("discover-chart");
    if (result.status === "rejected") {
      canvas.hidden = true;
      $("discover-interval").textContent = t("numbers.chart_unavailable", { detail: result.reason.message });
      return;
    }
    canvas.hidden = false;
    const found = result.value;
    TimeChart.draw(canvas, found.buckets || [], { labels: { count: t("numbers.events") } });
    $("discover-interval").textContent = t("discover.interval", { interval: interval(found.interval_seconds) });
  }

  // --- hits ----------------------------------------------------------------------------------

  function fieldRow(name, value) {
    const row = el("tr");
    const add = el("button", "+", "link add-filter");
    add.type = "button";
    add.setAttribute("aria-label", t("discover.add_filter", { filter: `${name}:${value}` }));
    add.addEventListener("click", () => {
      if (addChip(`${name}:${value}`)) search();
    });
    const actions = el("td");
    actions.append(add);
    row.append(el("th", name, "mono"), el("td", typeof value === "object" ? JSON.stringify(value) : value, "mono"), actions);
    return row;
  }

  function hit(event) {
    const item = el("li", null, "hit");
    const fold = el("details");
    const summary = el("summary");
    const meta = SUMMARY_FIELDS.map((name) => event[name]).filter((v) => v !== undefined && v !== null && v !== "");
    summary.append(el("time", formatTime(event["@timestamp"]), "hit-time"), el("span", meta.join(" · "), "hit-meta"),
      el("span", event["event.original"] ?? "", "hit-raw mono"));
    const raw = el("pre", event["event.original"] ?? "—");
    const fields = el("table", null, "compact hit-fields");
    const body = el("tbody");
    for (const name of Object.keys(event).sort()) {
      if (name !== "event.original") body.append(fieldRow(name, event[name]));
    }
    fields.append(body);
    fold.append(summary, raw, fields);
    item.append(fold);
    return item;
  }

  function renderHits() {
    $("discover-results").replaceChildren(...state.hits.map(hit));
    $("discover-empty").hidden = state.hits.length > 0 || !state.searched;
    $("discover-more").hidden = !state.next;
    $("discover-total").textContent = state.total === null ? ""
      : t("discover.total", { shown: state.hits.length, total: state.total });
    const names = new Set(state.hits.flatMap((event) => Object.keys(event)));
    $("discover-field-names").replaceChildren(...[...names].sort().map((name) => {
      const option = el("option");
      option.value = `${name}:`;
      return option;
    }));
  }

  // --- the view ------------------------------------------------------------------------------

  function renderAgencies() {
    const select = $("discover-agency");
    const chosen = select.value;
    select.replaceChildren(...state.agencyOptions());
    select.value = chosen;
    if (select.value !== chosen) select.value = "";
  }

  function show(agencyOptions) {
    state.agencyOptions = agencyOptions;
    renderAgencies();
    $("discover-field").placeholder = "source.ip:203.0.113.5";
    showCustom();
    if (!state.searched) search();
  }

  // Opened from an incident's evidence: that event's surroundings.
  function open(filters) {
    $("discover-q").value = filters.q || "";
    state.fields = [...(filters.fields || [])];
    renderChips();
    if (filters.since && filters.until) {
      $("discover-range").value = "custom";
      $("discover-since").value = toInput(filters.since);
      $("discover-until").value = toInput(filters.until);
    }
    showCustom();
    const select = $("discover-agency");
    select.value = filters.agency || "";
    if (select.value !== (filters.agency || "")) select.value = "";
    search();
  }

  function rerender() {
    renderAgencies();
    renderChips();
    renderHits();
  }

  function wire(hooks) {
    state.hooks = hooks;
    $("discover-range").value = "24h";
    $("discover-form").addEventListener("submit", (submitted) => {
      submitted.preventDefault();
      const typed = $("discover-field").value.trim();
      if (typed) {
        if (!addChip(typed)) return;
        $("discover-field").value = "";
      }
      search();
    });
    $("discover-range").addEventListener("change", () => {
      if ($("discover-range").value === "custom" && !$("discover-since").value) {
        const until = new Date();
        $("discover-since").value = toInput(new Date(until.getTime() - RANGES["24h"]));
        $("discover-until").value = toInput(until);
      }
      showCustom();
      if ($("discover-range").value !== "custom") search();
    });
    $("discover-agency").addEventListener("change", () => search());
    $("discover-more").addEventListener("click", () => more());
  }

  window.Discover = { wire, show, open, rerender };
})();
