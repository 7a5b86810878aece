// The incident list's filters. What is chosen lives in the address (the query string), so a reload or a
// shared link keeps it. Times are typed and shown in Asia/Ho_Chi_Minh, which is UTC+7 all year.
(() => {
  "use strict";

  const { t } = window.I18n;
  const { $, el, api } = window.Canh;
  const STATES = ["new", "acknowledged", "investigating", "contained", "resolved", "closed"];
  const OPEN_STATES = ["new", "acknowledged", "investigating", "contained"];
  const SEVERITIES = ["low", "medium", "high", "critical"];
  const HOUR_MS = 3600 * 1000;
  const RANGES = { "1h": HOUR_MS, "24h": 24 * HOUR_MS, "7d": 7 * 24 * HOUR_MS, "30d": 30 * 24 * HOUR_MS };
  const VIETNAM_OFFSET_MS = 7 * HOUR_MS;
  const DEBOUNCE_MS = 300;
  const DEFAULTS = Object.freeze({ severity: [], state: "", agency: "", system: "", rule: "", assignee: "", q: "",
    range: "", from: "", to: "", sort: "-last_seen" });
  const KEYS = Object.keys(DEFAULTS);

  let chosen = fresh();
  let catalog = { agencies: [], systems: [], rules: [], showAgency: false };
  let onChange = () => {};
  let typingTimer = null;

  function fresh(partial = {}) {
    return { ...DEFAULTS, severity: [], ...partial };
  }

  function option(value, label) {
    const element = el("option", label);
    element.value = value;
    return element;
  }

  // --- the address -----------------------------------------------------------------------------

  function fromAddress() {
    const params = new URLSearchParams(location.search);
    const read = fresh();
    for (const key of KEYS) {
      const value = params.get(key);
      if (value === null) continue;
      read[key] = key === "severity" ? value.split(",").filter((s) => SEVERITIES.includes(s)) : value;
    }
    if (!["", "custom", ...Object.keys(RANGES)].includes(read.range)) read.range = "";
    return read;
  }

  // Sets (or, with an empty value, removes) query parameters without reloading; the #incident/… hash stays.
  function setParams(values) {
    const params = new URLSearchParams(location.search);
    for (const [key, value] of Object.entries(values)) {
      if (value) params.set(key, value);
      else params.delete(key);
    }
    const query = params.toString();
    history.replaceState(history.state, "", `${location.pathname}${query ? `?${query}` : ""}${location.hash}`);
  }

  function writeAddress() {
    const values = {};
    for (const key of KEYS) {
      const value = key === "severity" ? chosen.severity.join(",") : chosen[key];
      values[key] = value === DEFAULTS[key] ? "" : value;
    }
    setParams(values);
  }

  // --- time ------------------------------------------------------------------------------------

  // "2026-12-01T08:00" as typed in Vietnam → an ISO instant, or null.
  function vietnamInputToIso(value) {
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(value || "")) return null;
    const date = new Date(`${value}:00+07:00`);
    return Number.isNaN(date.getTime()) ? null : date.toISOString();
  }

  function vietnamInput(date) {
    return new Date(date.getTime() + VIETNAM_OFFSET_MS).toISOString().slice(0, 16);
  }

  function bounds(range, from, to, now = new Date()) {
    if (RANGES[range]) return { since: new Date(now.getTime() - RANGES[range]).toISOString(), until: null };
    if (range === "custom") return { since: vietnamInputToIso(from), until: vietnamInputToIso(to) };
    return { since: null, until: null };
  }

  // --- the API query ---------------------------------------------------------------------------

  function apiQuery() {
    const params = new URLSearchParams();
    for (const severity of chosen.severity) params.append("severity", severity);
    const states = chosen.state === "open" ? OPEN_STATES : STATES.includes(chosen.state) ? [chosen.state] : [];
    for (const state of states) params.append("state", state);
    if (chosen.agency && catalog.showAgency) params.set("agency", chosen.agency);
    if (chosen.system) params.append("system", chosen.system);
    if (chosen.rule) params.set("rule_id", chosen.rule);
    if (chosen.assignee.trim()) params.set("assignee", chosen.assignee.trim());
    if (chosen.q.trim()) params.set("q", chosen.q.trim().slice(0, 200));
    const { since, until } = bounds(chosen.range, chosen.from, chosen.to);
    if (since) params.set("since", since);
    if (until) params.set("until", until);
    params.set("sort", chosen.sort);
    return params;
  }

  function isFiltered() {
    return KEYS.some((key) => key !== "sort" && String(chosen[key]) !== String(DEFAULTS[key]));
  }

  // --- the controls ----------------------------------------------------------------------------

  function localName(vi, en) {
    return I18n.language === "en" ? en || vi : vi || en;
  }

  function ruleName(rule) {
    return localName(rule.title_vi || rule.title, rule.title || rule.name || rule.id);
  }

  function rangeOptions() {
    return [option("", t("range.any")), ...Object.keys(RANGES).map((key) => option(key, t(`range.${key}`))),
      option("custom", t("range.custom"))];
  }

  function fill(select, options, value) {
    select.replaceChildren(...options);
    select.value = value;
    if (select.value !== value) select.value = ""; // an unknown value from an old link
  }

  function render() {
    const chips = $("filter-severity");
    chips.replaceChildren(...SEVERITIES.map((severity) => {
      const chip = el("button", t(`severity.${severity}`), `chip chip-${severity}`);
      chip.type = "button";
      chip.dataset.severity = severity;
      chip.setAttribute("aria-pressed", String(chosen.severity.includes(severity)));
      return chip;
    }));
    fill($("filter-state"), [option("", t("filter.state_all")), option("open", t("filter.state_open")),
      ...STATES.map((state) => option(state, t(`state.${state}`)))], chosen.state);
    $("filter-agency-label").hidden = !catalog.showAgency;
    fill($("filter-agency"), [option("", t("filter.agency_all")), ...catalog.agencies.map(([agency, depth]) =>
      option(agency.id, "\u00a0\u00a0".repeat(depth) + window.Canh.agencyName(agency)))], chosen.agency);
    fill($("filter-system"), [option("", t("filter.system_all")),
      ...catalog.systems.map((system) => option(system.id, system.name))], chosen.system);
    const rules = [...catalog.rules].sort((a, b) => ruleName(a).localeCompare(ruleName(b), I18n.language));
    fill($("filter-rule"), [option("", t("filter.rule_all")), ...rules.map((rule) => option(rule.id, ruleName(rule)))],
      chosen.rule);
    fill($("filter-range"), rangeOptions(), chosen.range);
    $("filter-custom").hidden = chosen.range !== "custom";
    $("filter-from").value = chosen.from;
    $("filter-to").value = chosen.to;
    $("filter-q").value = chosen.q;
    $("filter-assignee").value = chosen.assignee;
    $("filter-reset").hidden = !isFiltered();
  }

  function changed() {
    writeAddress();
    $("filter-reset").hidden = !isFiltered();
    onChange();
  }

  function wire(handler) {
    onChange = handler;
    $("filter-severity").addEventListener("click", (clicked) => {
      const chip = clicked.target.closest("button[data-severity]");
      if (!chip) return;
      const severity = chip.dataset.severity;
      chosen.severity = chosen.severity.includes(severity) ? chosen.severity.filter((s) => s !== severity)
        : SEVERITIES.filter((s) => s === severity || chosen.severity.includes(s));
      chip.setAttribute("aria-pressed", String(chosen.severity.includes(severity)));
      changed();
    });
    for (const [id, key] of [["filter-state", "state"], ["filter-agency", "agency"], ["filter-system", "system"],
      ["filter-rule", "rule"]]) {
      $(id).addEventListener("change", () => {
        chosen[key] = $(id).value;
        changed();
      });
    }
    $("filter-range").addEventListener("change", () => {
      chosen.range = $("filter-range").value;
      if (chosen.range === "custom" && !chosen.from) {
        const now = new Date();
        chosen.from = vietnamInput(new Date(now.getTime() - RANGES["24h"]));
        chosen.to = vietnamInput(now);
        $("filter-from").value = chosen.from;
        $("filter-to").value = chosen.to;
      }
      $("filter-custom").hidden = chosen.range !== "custom";
      changed();
    });
    for (const [id, key] of [["filter-q", "q"], ["filter-assignee", "assignee"], ["filter-from", "from"],
      ["filter-to", "to"]]) {
      $(id).addEventListener("input", () => {
        chosen[key] = $(id).value;
        clearTimeout(typingTimer);
        typingTimer = setTimeout(changed, DEBOUNCE_MS);
      });
    }
    $("filter-reset").addEventListener("click", () => set({}));
  }

  // Replaces every filter (the sort order stays); used by the overview's links into the list.
  function set(partial) {
    clearTimeout(typingTimer);
    chosen = fresh({ sort: chosen.sort, ...partial });
    render();
    changed();
  }

  function setSort(sort) {
    chosen.sort = sort;
    changed();
  }

  async function load(me, agenciesInTreeOrder) {
    chosen = fromAddress();
    catalog.agencies = agenciesInTreeOrder;
    catalog.showAgency = Boolean(me?.sees_all) || agenciesInTreeOrder.length > 1;
    render();
    const [systems, rules] = await Promise.all([api("/api/v1/systems").catch(() => []),
      api("/api/v1/rules").catch(() => [])]);
    catalog.systems = systems;
    catalog.rules = rules;
    render();
  }

  window.Filters = {
    load, wire, render, set, setSort, setParams, apiQuery, isFiltered, bounds, vietnamInput, vietnamInputToIso,
    get sort() {
      return chosen.sort;
    },
    get range() {
      return { range: chosen.range, from: chosen.from, to: chosen.to };
    },
    RANGES,
  };
})();
