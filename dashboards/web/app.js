// The incident page. Everything shown comes from the API, which already limits each caller to their
// agency subtree; the page never filters for access. Data is written with textContent only: titles,
// entities and log lines are attacker-controlled.
(() => {
  "use strict";

  const { t, formatTime } = window.I18n;
  const { KEY_STORAGE, $, el, setText, table, api } = window.Canh;
  const REFRESH_MS = 3000;
  const MAX_EVIDENCE = 20;
  const STATES = ["new", "acknowledged", "investigating", "contained", "resolved", "closed"];
  const OPEN_STATES = ["new", "acknowledged", "investigating", "contained"];
  const SEVERITIES = ["low", "medium", "high", "critical"];
  // Incident titles come in Vietnamese when the rule has a Vietnamese title; the English page uses the original.
  const localTitle = (incident) => (window.I18n.language === "en" && incident.title_en) || incident.title;

  const app = {
    me: null,
    agencies: [],
    incidents: [],
    rows: new Map(), // incident id -> <tr>, reused between refreshes so nothing flickers
    listGeneration: 0,
    listLoaded: false,
    timer: null,
    selectedId: null,
    detail: null,
    detailGeneration: 0,
    events: new Map(), // event id -> event, or null when the API no longer returns it
    banner: null, // [key, vars] of the error shown above the list
    view: "incidents",
  };

  function localName(vi, en) {
    return I18n.language === "en" ? en : vi;
  }

  // A message element whose text follows the language, or hidden when key is null.
  function showMessage(element, key, vars) {
    element.hidden = !key;
    if (key && !vars) element.dataset.i18n = key;
    else delete element.dataset.i18n;
    if (key) element.textContent = t(key, vars);
  }

  // --- sign-in -------------------------------------------------------------------------------

  function showSignIn(messageKey, vars) {
    clearTimeout(app.timer);
    app.me = null;
    $("incidents-view").hidden = true;
    $("posture-view").hidden = true;
    $("views").hidden = true;
    $("session").hidden = true;
    $("signin-view").hidden = false;
    showMessage($("signin-message"), messageKey, vars);
    $("api-key").focus();
  }

  function signOut(messageKey) {
    sessionStorage.removeItem(KEY_STORAGE);
    app.incidents = [];
    for (const row of app.rows.values()) row.remove();
    app.rows.clear();
    app.events.clear();
    app.listLoaded = false;
    $("loading").hidden = false;
    $("incident-table").hidden = true;
    $("empty").hidden = true;
    showBanner(null);
    closeDetail();
    showSignIn(messageKey);
  }

  async function start(fromForm) {
    try {
      app.me = await api("/api/v1/me");
      app.agencies = await api("/api/v1/agencies");
    } catch (error) {
      if (error.status === 401) signOut(fromForm ? "signin.invalid" : "signin.expired");
      else if (error.status === 0) showSignIn("signin.unreachable");
      else showSignIn("error.generic", { detail: error.message });
      return;
    }
    $("signin-view").hidden = true;
    $("views").hidden = false;
    $("session").hidden = false;
    showView(app.view);
    renderSession();
    renderFilters();
    openFromHash();
    refresh();
  }

  function renderSession() {
    const me = app.me;
    setText($("who-name"), me.name);
    setText($("who-role"), t(`role.${me.role}`));
    const agency = me.agency ? localName(me.agency_name_vi, me.agency_name_en) : t("session.all_agencies");
    setText($("who-agency"), agency);
  }

  // --- filters -------------------------------------------------------------------------------

  function option(value, label) {
    const element = el("option", label);
    element.value = value;
    return element;
  }

  function agenciesInTreeOrder() {
    const byId = new Map(app.agencies.map((a) => [a.id, a]));
    const children = new Map();
    const roots = [];
    for (const agency of app.agencies) {
      const up = agency.merged_into || agency.parent;
      if (up && byId.has(up)) {
        if (!children.has(up)) children.set(up, []);
        children.get(up).push(agency);
      } else {
        roots.push(agency);
      }
    }
    const ordered = [];
    const visit = (agency, depth) => {
      ordered.push([agency, depth]);
      for (const child of children.get(agency.id) || []) visit(child, depth + 1);
    };
    for (const root of roots) visit(root, 0);
    return ordered;
  }

  function renderFilters() {
    const stateSelect = $("filter-state");
    const chosenState = stateSelect.value;
    stateSelect.replaceChildren(option("", t("filter.state_all")), option("open", t("filter.state_open")),
      ...STATES.map((state) => option(state, t(`state.${state}`))));
    stateSelect.value = chosenState;

    const seesAll = Boolean(app.me?.sees_all);
    $("filter-agency-label").hidden = !seesAll;
    const agencySelect = $("filter-agency");
    const chosenAgency = seesAll ? agencySelect.value : "";
    const options = [option("", t("filter.agency_all"))];
    if (seesAll) {
      for (const [agency, depth] of agenciesInTreeOrder()) {
        const indent = "\u00a0\u00a0".repeat(depth);
        options.push(option(agency.id, indent + localName(agency.name_vi, agency.name_en)));
      }
    }
    agencySelect.replaceChildren(...options);
    agencySelect.value = chosenAgency;
  }

  function listQuery() {
    const params = new URLSearchParams({ limit: "200" });
    const state = $("filter-state").value;
    for (const value of state === "open" ? OPEN_STATES : state ? [state] : []) params.append("state", value);
    const agency = $("filter-agency").value;
    if (agency && app.me?.sees_all) params.set("agency", agency);
    return params.toString();
  }

  // --- the incident list ---------------------------------------------------------------------

  async function refresh() {
    clearTimeout(app.timer);
    if (!app.me) return;
    const generation = ++app.listGeneration;
    try {
      const incidents = await api(`/api/v1/incidents?${listQuery()}`);
      if (generation !== app.listGeneration) return; // filters changed meanwhile; a newer request runs
      app.incidents = incidents;
      app.listLoaded = true;
      showBanner(null);
      renderIncidents();
      setText($("updated"), t("incidents.updated", { time: formatTime(new Date()) }));
      const listed = incidents.find((incident) => incident.id === app.selectedId);
      if (listed && app.detail && listed.version !== app.detail.version) loadDetail(app.selectedId, true);
    } catch (error) {
      if (generation !== app.listGeneration) return;
      if (!handleError(error)) return;
    }
    app.timer = setTimeout(refresh, REFRESH_MS);
  }

  // Returns false when the caller was signed out.
  function handleError(error) {
    if (error.status === 401) {
      signOut("signin.expired");
      return false;
    }
    if (error.status === 0) showBanner("error.unreachable");
    else if (error.status === 503) showBanner("error.unavailable");
    else if (error.status === 403) showBanner("error.forbidden");
    else showBanner("error.generic", { detail: error.message });
    return true;
  }

  function showBanner(key, vars) {
    showMessage($("banner"), key, vars);
    app.banner = key ? [key, vars] : null;
  }

  function createRow(id) {
    const row = el("tr");
    row.dataset.id = id;
    row.tabIndex = 0;
    for (const name of ["id", "title", "severity", "state", "agency", "system", "source", "alerts", "first", "last"]) {
      const cell = el("td", null, `col-${name}`);
      if (name === "severity") cell.append(el("span", null, "badge"));
      row.append(cell);
    }
    return row;
  }

  function updateRow(row, incident) {
    const cells = row.children;
    setText(cells[0], incident.id);
    setText(cells[1], localTitle(incident));
    const badge = cells[2].firstChild;
    setText(badge, t(`severity.${incident.severity}`));
    const badgeClass = `badge severity-${SEVERITIES.includes(incident.severity) ? incident.severity : "unknown"}`;
    if (badge.className !== badgeClass) badge.className = badgeClass;
    setText(cells[3], t(`state.${incident.state}`));
    setText(cells[4], localName(incident.agency_name_vi, incident.agency_name_en));
    setText(cells[5], incident.system_name || incident.system);
    setText(cells[6], incident.entities?.["source.ip"]);
    setText(cells[7], incident.alert_count);
    setText(cells[8], formatTime(incident.first_seen));
    setText(cells[9], formatTime(incident.last_seen));
    const overdue = incident.overdue || [];
    row.classList.toggle("overdue-row", overdue.length > 0);
    row.title = overdue.length ? `${t("clock.status.overdue")}: ${overdue.map((kind) => t(`clock.${kind}`)).join(", ")}` : "";
    markSelected(row);
  }

  function markSelected(row) {
    const selected = row.dataset.id === app.selectedId;
    row.classList.toggle("selected", selected);
    row.setAttribute("aria-selected", String(selected));
  }

  function renderIncidents() {
    const body = $("incident-rows");
    const seen = new Set();
    let previous = null;
    for (const incident of app.incidents) {
      let row = app.rows.get(incident.id);
      if (!row) {
        row = createRow(incident.id);
        app.rows.set(incident.id, row);
      }
      updateRow(row, incident);
      seen.add(incident.id);
      const expected = previous ? previous.nextSibling : body.firstChild;
      if (expected !== row) body.insertBefore(row, expected); // moves only rows whose position changed
      previous = row;
    }
    for (const [id, row] of app.rows) {
      if (!seen.has(id)) {
        row.remove();
        app.rows.delete(id);
      }
    }
    const empty = app.incidents.length === 0;
    $("loading").hidden = app.listLoaded;
    $("incident-table").hidden = empty;
    const emptyText = $("empty");
    emptyText.hidden = !empty;
    const filtered = $("filter-state").value || $("filter-agency").value;
    setText(emptyText, t(filtered ? "incidents.empty_filtered" : "incidents.empty"));
    setText($("count"), t("incidents.count", { count: app.incidents.length }));
  }

  // --- one incident --------------------------------------------------------------------------

  function openFromHash() {
    const match = /^#incident\/(.+)$/.exec(location.hash);
    const id = match ? decodeURIComponent(match[1]) : null;
    if (id && app.me) {
      if (id !== app.selectedId) loadDetail(id, false);
    } else if (app.selectedId) {
      closeDetail();
    }
  }

  function select(id) {
    const hash = `#incident/${encodeURIComponent(id)}`;
    if (location.hash === hash) openFromHash();
    else location.hash = hash; // hashchange opens it, and the back button closes it
  }

  function closeDetail() {
    app.selectedId = null;
    app.detail = null;
    app.detailGeneration++;
    $("detail").hidden = true;
    $("workspace").classList.remove("with-detail");
    for (const row of app.rows.values()) markSelected(row);
    if (location.hash.startsWith("#incident/")) history.replaceState(null, "", location.pathname + location.search);
  }

  async function loadDetail(id, quiet) {
    const generation = ++app.detailGeneration;
    if (!quiet || id !== app.selectedId) {
      app.selectedId = id;
      app.detail = null;
      $("detail").hidden = false;
      $("workspace").classList.add("with-detail");
      setText($("detail-title"), id);
      $("detail-body").hidden = true;
      showMessage($("detail-message"), "loading");
      for (const row of app.rows.values()) markSelected(row);
    }
    try {
      const detail = await api(`/api/v1/incidents/${encodeURIComponent(id)}`);
      if (generation !== app.detailGeneration) return;
      app.detail = detail;
      showMessage($("detail-message"), null);
      renderDetail();
      await loadEvidence(generation);
    } catch (error) {
      if (generation !== app.detailGeneration) return;
      if (error.status === 404) {
        $("detail-body").hidden = true;
        showMessage($("detail-message"), "detail.not_found");
      } else if (handleError(error) && !app.detail) {
        showMessage($("detail-message"), null);
      }
    }
  }

  function fact(list, label, value) {
    list.append(el("dt", label), el("dd", value === undefined || value === null || value === "" ? "—" : value));
  }

  function renderDetail() {
    const d = app.detail;
    if (!d) return;
    $("detail-body").hidden = false;
    setText($("detail-title"), `${d.id} — ${localTitle(d)}`);

    const facts = $("detail-facts");
    facts.replaceChildren();
    fact(facts, t("col.severity"), t(`severity.${d.severity}`));
    fact(facts, t("col.state"), t(`state.${d.state}`));
    fact(facts, t("detail.resolution"), d.resolution ? t(`resolution.${d.resolution}`) : null);
    fact(facts, t("detail.assignee"), d.assignee);
    fact(facts, t("col.agency"), localName(d.agency_name_vi, d.agency_name_en));
    fact(facts, t("col.system"), d.system_name || d.system);
    fact(facts, t("detail.rule"), d.rule_id);
    fact(facts, t("col.alerts"), d.alert_count);
    fact(facts, t("col.first_seen"), formatTime(d.first_seen));
    fact(facts, t("col.last_seen"), formatTime(d.last_seen));
    fact(facts, t("detail.created"), formatTime(d.created));
    fact(facts, t("detail.updated"), formatTime(d.updated));

    const entities = $("detail-entities");
    entities.replaceChildren();
    const pairs = Object.entries(d.entities || {});
    if (pairs.length === 0) entities.append(el("dd", t("detail.none"), "muted"));
    for (const [name, value] of pairs) fact(entities, name, value);

    const tags = $("detail-tags");
    tags.replaceChildren(...(d.tags || []).map((tag) => el("li", tag, "tag")));
    if (!d.tags?.length) tags.append(el("li", t("detail.none"), "muted"));

    renderAlerts(d.alerts || []);
    renderEvidence();
    renderAudit(d.audit || []);
    Actions.render(d, app.me, () => {
      loadDetail(d.id, true);
      refresh();
    });
  }

  function renderAlerts(alerts) {
    const box = $("detail-alerts");
    if (alerts.length === 0) {
      box.replaceChildren(el("p", t("detail.no_alerts"), "muted"));
      return;
    }
    box.replaceChildren(table(
      [t("alert.rule"), t("col.severity"), t("alert.count"), t("col.last_seen")],
      alerts.map((a) => [a.rule_title, el("span", t(`severity.${a.severity}`), `badge severity-${a.severity}`),
        a.count, formatTime(a.last_seen)]),
    ));
  }

  function evidenceIds() {
    const ids = [];
    for (const alert of app.detail?.alerts || []) {
      for (const id of alert.event_ids || []) if (!ids.includes(id)) ids.push(id);
    }
    return ids;
  }

  async function loadEvidence(generation) {
    const wanted = evidenceIds().slice(0, MAX_EVIDENCE).filter((id) => !app.events.has(id));
    await Promise.all(wanted.map(async (id) => {
      try {
        app.events.set(id, await api(`/api/v1/events/${encodeURIComponent(id)}`));
      } catch (error) {
        if (error.status === 404) app.events.set(id, null);
        else if (error.status === 401) throw error;
      }
    })).catch((error) => handleError(error));
    if (generation === app.detailGeneration) renderEvidence();
  }

  function renderEvidence() {
    const box = $("detail-evidence");
    const ids = evidenceIds();
    const shown = ids.slice(0, MAX_EVIDENCE).filter((id) => app.events.has(id));
    if (shown.length === 0) {
      box.replaceChildren(el("p", t(ids.length ? "loading" : "detail.no_evidence"), "muted"));
      return;
    }
    const items = shown.map((id) => {
      const event = app.events.get(id);
      if (!event) return el("p", t("detail.evidence_missing", { id }), "muted");
      const article = el("article", null, "event");
      const meta = [formatTime(event["@timestamp"]), event["event.dataset"], event["source.ip"], event["url.domain"]];
      article.append(el("p", meta.filter(Boolean).join(" · "), "event-meta"), el("pre", event["event.original"]));
      return article;
    });
    if (ids.length > shown.length) items.push(el("p", t("detail.evidence_more", { shown: shown.length, total: ids.length }), "muted"));
    box.replaceChildren(...items);
  }

  function change(entry) {
    const before = entry.before || {};
    const after = entry.after || {};
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    const show = (key, value) => {
      if (value === undefined || value === null) return "—";
      if (key === "state" && STATES.includes(value)) return t(`state.${value}`);
      if (key === "resolution") return t(`resolution.${value}`);
      return typeof value === "object" ? JSON.stringify(value) : String(value);
    };
    return keys.filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key]))
      .map((key) => `${key}: ${show(key, before[key])} → ${show(key, after[key])}`).join("; ");
  }

  function renderAudit(entries) {
    const box = $("detail-audit");
    if (entries.length === 0) {
      box.replaceChildren(el("p", t("detail.no_audit"), "muted"));
      return;
    }
    box.replaceChildren(table(
      [t("audit.at"), t("audit.actor"), t("audit.action"), t("audit.change")],
      entries.map((e) => [formatTime(e.at), e.actor, e.action, change(e) || "—"]),
    ));
  }

  // --- views ---------------------------------------------------------------------------------

  function postureOptions() {
    const options = [option("", app.me?.sees_all ? t("filter.agency_all") : t("posture.my_scope"))];
    for (const [agency, depth] of agenciesInTreeOrder()) {
      options.push(option(agency.id, "\u00a0\u00a0".repeat(depth) + localName(agency.name_vi, agency.name_en)));
    }
    return options;
  }

  function showView(view) {
    app.view = view;
    $("incidents-view").hidden = view !== "incidents";
    $("posture-view").hidden = view !== "posture";
    $("view-incidents").setAttribute("aria-pressed", String(view === "incidents"));
    $("view-posture").setAttribute("aria-pressed", String(view === "posture"));
    if (view === "posture" && app.me) Posture.show(app.me, postureOptions);
  }

  // --- language ------------------------------------------------------------------------------

  function rerender() {
    I18n.apply();
    if (!app.me) return;
    renderSession();
    renderFilters();
    if (app.listLoaded) {
      renderIncidents();
      setText($("updated"), t("incidents.updated", { time: formatTime(new Date()) }));
    }
    if (app.banner) showBanner(...app.banner);
    renderDetail();
    if (app.view === "posture") Posture.show(app.me, postureOptions);
  }

  // --- wiring --------------------------------------------------------------------------------

  function wire() {
    $("signin-form").addEventListener("submit", (submitted) => {
      submitted.preventDefault();
      const key = $("api-key").value.trim();
      if (!key) return;
      sessionStorage.setItem(KEY_STORAGE, key);
      $("api-key").value = "";
      start(true);
    });
    $("sign-out").addEventListener("click", () => signOut(null));
    $("lang-switch").addEventListener("click", () => {
      I18n.setLanguage(I18n.language === "vi" ? "en" : "vi");
      $("lang-switch").lang = I18n.language === "vi" ? "en" : "vi";
      rerender();
    });
    for (const id of ["filter-state", "filter-agency"]) {
      $(id).addEventListener("change", () => refresh());
    }
    const rows = $("incident-rows");
    rows.addEventListener("click", (clicked) => {
      const row = clicked.target.closest("tr[data-id]");
      if (row) select(row.dataset.id);
    });
    rows.addEventListener("keydown", (pressed) => {
      const row = pressed.target.closest("tr[data-id]");
      if (row && (pressed.key === "Enter" || pressed.key === " ")) {
        pressed.preventDefault();
        select(row.dataset.id);
      }
    });
    $("detail-close").addEventListener("click", closeDetail);
    $("view-incidents").addEventListener("click", () => showView("incidents"));
    $("view-posture").addEventListener("click", () => showView("posture"));
    Actions.wire(Reports.open);
    Reports.wire();
    Posture.wire(Reports.open);
    window.addEventListener("hashchange", openFromHash);
  }

  async function main() {
    wire();
    try {
      await I18n.load();
    } catch (_) {
      // without the dictionaries the Vietnamese text already in the page stays; keys show elsewhere
    }
    $("lang-switch").lang = I18n.language === "vi" ? "en" : "vi";
    if (sessionStorage.getItem(KEY_STORAGE)) start(false);
    else showSignIn(null);
  }

  main();
})();
