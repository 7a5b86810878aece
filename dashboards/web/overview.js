// The overview (tổng quan): counts by severity and state, the alert histogram stacked by severity, the most
// active addresses, rules and systems, and overdue legal deadlines, for the caller's scope and a time range
// (GET /overview). Every count leads into the incident list with the matching filter.
(() => {
  "use strict";

  const { t, formatTime } = window.I18n;
  const { $, el, setText, api } = window.Canh;
  const SEVERITIES = ["critical", "high", "medium", "low"];
  const STATES = ["new", "acknowledged", "investigating", "contained", "resolved", "closed"];
  const PRESETS = ["1h", "24h", "7d", "30d"];
  const REFRESH_MS = 30000;
  const state = { generation: 0, timer: null, data: null, visible: false, openList: null, openIncident: null };

  const localName = (vi, en) => (I18n.language === "en" ? en || vi : vi || en);

  function option(value, label) {
    const element = el("option", label);
    element.value = value;
    return element;
  }

  function range() {
    return PRESETS.includes($("overview-range").value) ? $("overview-range").value : "24h";
  }

  // Into the list: the item's filter plus this view's time range.
  function openList(partial) {
    state.openList({ range: range(), agency: $("overview-agency").value, ...partial });
  }

  function tile(label, value, className, filter) {
    const button = el("button", null, `tile tile-link ${className || ""}`);
    button.type = "button";
    button.append(el("span", label), el("strong", value));
    button.addEventListener("click", () => openList(filter));
    return button;
  }

  function renderCounts(incidents) {
    $("overview-severity").replaceChildren(
      tile(t("overview.incidents_total"), incidents.total ?? 0, "tile-total", {}),
      ...SEVERITIES.map((severity) => tile(t(`severity.${severity}`), incidents.by_severity?.[severity] ?? 0,
        `tile-${severity}`, { severity: [severity] })));
    $("overview-states").replaceChildren(...STATES.map((one) => tile(t(`state.${one}`),
      incidents.by_state?.[one] ?? 0, "tile-state", { state: one })));
  }

  function renderSources(sources) {
    const box = $("overview-sources");
    if (!sources.length) {
      box.replaceChildren(el("p", t("posture.none"), "muted"));
      return;
    }
    const most = Math.max(...sources.map((source) => source.count), 1);
    const list = el("ol", null, "ranked");
    for (const source of sources) {
      const button = el("button", null, "ranked-item");
      button.type = "button";
      button.dataset.value = source.value;
      const bar = el("span", null, "ranked-bar");
      bar.style.width = `${Math.round((source.count / most) * 100)}%`;
      button.append(el("span", source.value, "ranked-name mono"), el("span", source.count, "ranked-count"), bar);
      button.addEventListener("click", () => openList({ q: source.value }));
      const item = el("li");
      item.append(button);
      list.append(item);
    }
    box.replaceChildren(list);
  }

  function renderOverdue(overdue) {
    const box = $("overview-overdue");
    if (!overdue.length) {
      box.replaceChildren(el("p", t("overview.no_overdue"), "muted"));
      return;
    }
    const table = el("table", null, "compact");
    const head = el("tr");
    for (const key of ["col.id", "clock.kind", "clock.due", "overview.overdue_hours"]) head.append(el("th", t(key)));
    table.append(el("thead"), el("tbody"));
    table.tHead.append(head);
    for (const item of overdue) {
      const row = el("tr", null, "overdue link-row");
      row.tabIndex = 0;
      row.title = localName(item.title, item.title_en);
      row.append(el("td", item.incident_id, "col-id"), el("td", t(`clock.${item.clock}`)), el("td", formatTime(item.due)),
        el("td", Math.round(item.overdue_hours ?? 0), "number"));
      const open = () => state.openIncident(item.incident_id);
      row.addEventListener("click", open);
      row.addEventListener("keydown", (pressed) => {
        if (pressed.key === "Enter") open();
      });
      table.tBodies[0].append(row);
    }
    box.replaceChildren(table);
  }

  function render() {
    const data = state.data;
    if (!data) return;
    const spanSeconds = (new Date(data.until) - new Date(data.since)) / 1000;
    setText($("overview-period"), t("posture.period", { start: formatTime(data.since), end: formatTime(data.until) }));
    renderCounts(data.incidents || {});
    setText($("overview-alerts-total"), t("overview.alerts_total", { count: data.alerts?.total ?? 0 }));
    const buckets = data.alerts?.histogram || [];
    Charts.severityHistogram($("chart-histogram"), buckets, {
      spanSeconds, severityLabel: (severity) => t(`severity.${severity}`),
    });
    $("chart-histogram").setAttribute("aria-label", t("overview.histogram_label",
      { count: data.alerts?.total ?? 0, buckets: buckets.length }));
    const rules = (data.top_rules || []).map((rule) => ({ ...rule,
      name: localName(rule.title_vi || rule.title, rule.title || rule.rule_id) }));
    Charts.rankedBars($("chart-rules"), rules, { label: t("overview.alerts"), color: Charts.COLORS.high,
      onPick: (index) => openList({ rule: rules[index].rule_id }) });
    const systems = (data.top_systems || []).map((system) => ({ ...system,
      name: localName(system.name_vi, system.name_en) || system.system }));
    Charts.rankedBars($("chart-systems"), systems, { label: t("posture.count"), color: Charts.COLORS.blue,
      onPick: (index) => openList({ system: systems[index].system }) });
    for (const [id, items] of [["chart-rules", rules], ["chart-systems", systems]]) {
      $(id).setAttribute("aria-label", items.map((item) => `${item.name}: ${item.count}`).join("; ") || t("posture.none"));
      $(`${id}-empty`).hidden = items.length > 0;
    }
    renderSources(data.top_sources || []);
    renderOverdue(data.overdue || []);
  }

  async function load() {
    clearTimeout(state.timer);
    const generation = ++state.generation;
    const { since } = Filters.bounds(range());
    const params = new URLSearchParams({ since });
    const agency = $("overview-agency").value;
    if (agency) params.set("agency", agency);
    try {
      const data = await api(`/api/v1/overview?${params}`);
      if (generation !== state.generation) return;
      state.data = data;
      $("overview-message").hidden = true;
      render();
    } catch (error) {
      if (generation !== state.generation) return;
      $("overview-message").hidden = false;
      $("overview-message").textContent = t("error.generic", { detail: error.message });
    }
    if (state.visible) state.timer = setTimeout(load, REFRESH_MS);
  }

  function renderChoices(agencyOptions) {
    const select = $("overview-range");
    const chosen = select.value || new URLSearchParams(location.search).get("orange") || "24h";
    select.replaceChildren(...PRESETS.map((key) => option(key, t(`range.${key}`))));
    select.value = PRESETS.includes(chosen) ? chosen : "24h";
    const agency = $("overview-agency");
    const chosenAgency = agency.value;
    agency.replaceChildren(...agencyOptions());
    agency.value = chosenAgency;
    $("overview-agency-label").hidden = agency.options.length <= 2;
  }

  function show(agencyOptions) {
    state.visible = true;
    renderChoices(agencyOptions);
    load();
  }

  function hide() {
    state.visible = false;
    clearTimeout(state.timer);
    state.generation++;
  }

  function rerender(agencyOptions) {
    renderChoices(agencyOptions);
    render();
  }

  function wire(openListWith, openIncident) {
    state.openList = openListWith;
    state.openIncident = openIncident;
    $("overview-range").addEventListener("change", () => {
      Filters.setParams({ orange: $("overview-range").value === "24h" ? "" : $("overview-range").value });
      load();
    });
    $("overview-agency").addEventListener("change", load);
  }

  window.Overview = { show, hide, wire, rerender, load };
})();
