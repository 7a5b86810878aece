// One incident: what it is (rules with their description and response guide, ATT&CK names), its numbers
// (anomaly and correlation evidence with a small chart; behaviour alerts in behaviour.js), grouped alerts,
// evidence events, tasks, observables and a timeline in words. Data is written with textContent only: titles,
// entities and log lines are attacker-controlled.
(() => {
  "use strict";

  const { t, formatTime } = window.I18n;
  const { $, el, setText, table, api } = window.Canh;
  const MAX_EVIDENCE = 20;
  const AROUND_MINUTES = 5; // the evidence link shows the events this many minutes either side
  const STATES = ["new", "acknowledged", "investigating", "contained", "resolved", "closed"];

  const state = {
    hooks: null, // { me(), onError(error) -> bool, onChanged(), onSelection(), discover(filters) }
    selectedId: null,
    detail: null,
    generation: 0,
    events: new Map(), // event id -> event, or null when the API no longer returns it
    rules: new Map(), // rule id -> rule metadata from GET /rules/{id}, or null when unknown
    attackNames: null, // GET /attack, when the detail carries no names
    ruleNames: null, // the facts' rule line, renamed once the rule catalog is in
  };

  const english = () => I18n.language === "en";
  const localName = (vi, en) => (english() ? en || vi : vi || en);
  const localTitle = (incident) => (english() && incident.title_en) || incident.title;

  function showMessage(element, key, vars) {
    element.hidden = !key;
    if (key && !vars) element.dataset.i18n = key;
    else delete element.dataset.i18n;
    if (key) element.textContent = t(key, vars);
  }

  // --- opening and closing -------------------------------------------------------------------

  function init(hooks) {
    state.hooks = hooks;
    Tasks.wire(() => state.detail, changed);
  }

  function select(id) {
    const hash = `#incident/${encodeURIComponent(id)}`;
    if (location.hash === hash) openFromHash();
    else location.hash = hash; // hashchange opens it, and the back button closes it
  }

  function openFromHash() {
    const match = /^#incident\/(.+)$/.exec(location.hash);
    const id = match ? decodeURIComponent(match[1]) : null;
    if (id && state.hooks.me()) {
      if (id !== state.selectedId) load(id, false);
    } else if (state.selectedId) {
      close();
    }
  }

  function close() {
    state.selectedId = null;
    state.detail = null;
    state.generation++;
    $("detail").hidden = true;
    $("workspace").classList.remove("with-detail");
    state.hooks.onSelection();
    if (location.hash.startsWith("#incident/")) history.replaceState(null, "", location.pathname + location.search);
  }

  function reset() {
    state.events.clear();
    state.rules.clear();
    close();
  }

  // The list saw a newer version of the open incident: reload it quietly.
  function refreshIfChanged(incidents) {
    const listed = incidents.find((incident) => incident.id === state.selectedId);
    if (listed && state.detail && listed.version !== state.detail.version) load(state.selectedId, true);
  }

  function changed() {
    if (state.selectedId) load(state.selectedId, true);
    state.hooks.onChanged();
  }

  async function load(id, quiet) {
    const generation = ++state.generation;
    if (!quiet || id !== state.selectedId) {
      state.selectedId = id;
      state.detail = null;
      $("detail").hidden = false;
      $("workspace").classList.add("with-detail");
      setText($("detail-title"), id);
      $("detail-body").hidden = true;
      showMessage($("detail-message"), "loading");
      state.hooks.onSelection();
    }
    try {
      const detail = await api(`/api/v1/incidents/${encodeURIComponent(id)}`);
      if (generation !== state.generation) return;
      state.detail = detail;
      showMessage($("detail-message"), null);
      render();
      await Promise.all([loadRules(generation), loadAttackNames(generation), loadEvidence(generation),
        Numbers.load(detail, () => generation === state.generation)]);
    } catch (error) {
      if (generation !== state.generation) return;
      if (error.status === 404) {
        $("detail-body").hidden = true;
        showMessage($("detail-message"), "detail.not_found");
      } else if (state.hooks.onError(error) && !state.detail) {
        showMessage($("detail-message"), null);
      }
    }
  }

  // --- rendering -----------------------------------------------------------------------------

  function fact(list, label, value) {
    const shown = value === undefined || value === null || value === "" ? "—" : value;
    const dd = el("dd");
    if (shown instanceof Node) dd.append(shown);
    else dd.textContent = String(shown);
    list.append(el("dt", label), dd);
  }

  function render() {
    const d = state.detail;
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
    state.ruleNames = el("span", ruleHits(d).map(ruleTitle).join("; "));
    fact(facts, t("detail.rule"), state.ruleNames);
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

    renderRules();
    renderAttack();
    Numbers.render(d);
    Behaviour.render(d, { me: state.hooks.me(), onChanged: changed, onError: state.hooks.onError,
      discover: state.hooks.discover });
    renderAlerts();
    renderEvidence();
    Tasks.render(d, state.hooks.me());
    Timeline.render(d);
    Actions.render(d, state.hooks.me(), changed);
  }

  // --- rules and ATT&CK ----------------------------------------------------------------------

  // Every rule that joined the incident; an older API gives only the alerts, so they are grouped here.
  function ruleHits(d) {
    if (Array.isArray(d.rules) && d.rules.length) return d.rules;
    return alertGroups(d).map((g) => ({ ...g, severity: g.example?.severity, detector: g.example?.detector }));
  }

  function alertGroups(d) {
    if (Array.isArray(d.alert_groups)) return d.alert_groups;
    const groups = new Map();
    for (const alert of d.alerts || []) {
      const group = groups.get(alert.rule_id) || { rule_id: alert.rule_id, title: alert.rule_title,
        title_vi: alert.rule_title_vi, alerts: 0,
        count: 0, first_seen: alert.first_seen, last_seen: alert.last_seen, example: alert };
      group.alerts += 1;
      group.count += alert.count || 0;
      if (alert.first_seen < group.first_seen) group.first_seen = alert.first_seen;
      if (alert.last_seen > group.last_seen) group.last_seen = alert.last_seen;
      groups.set(alert.rule_id, group);
    }
    return [...groups.values()];
  }

  function ruleMeta(hit) {
    return { ...(state.rules.get(hit.rule_id) || {}), ...Object.fromEntries(
      Object.entries(hit).filter(([, value]) => value !== undefined && value !== null && value !== "")) };
  }

  // The rule file's own titles first: an alert may carry a Vietnamese title in its English field (the model's).
  function ruleTitle(hit) {
    const rule = ruleMeta(hit);
    const file = state.rules.get(hit.rule_id) || {};
    return english() ? file.title || rule.title || rule.title_vi || rule.rule_id
      : rule.title_vi || file.title_vi || rule.title || rule.rule_id;
  }

  // The rule files' metadata (titles, and what an older API's detail lacks): GET /rules once, kept. An id the
  // catalog lacks (a rule since removed) stays as the incident names it.
  async function loadRules(generation) {
    if (state.rules.size === 0) {
      try {
        for (const rule of await api("/api/v1/rules")) state.rules.set(rule.id, rule);
      } catch (error) {
        if (error.status === 401) throw error;
        return;
      }
    }
    if (generation !== state.generation) return;
    renderRules();
    renderAttack();
    renderAlerts();
    if (state.ruleNames) setText(state.ruleNames, ruleHits(state.detail).map(ruleTitle).join("; "));
  }

  async function loadAttackNames(generation) {
    if (state.detail.attack || state.attackNames) return;
    try {
      state.attackNames = await api("/api/v1/attack");
    } catch (error) {
      if (error.status === 401) throw error;
      state.attackNames = { version: null, techniques: {}, tactics: {} };
    }
    if (generation === state.generation) renderAttack();
  }

  function paragraph(label, text) {
    const box = el("div", null, "rule-part");
    box.append(el("strong", label));
    // Rule files wrap their text at a fixed width: a single line break is a space, a blank line a paragraph,
    // and a line that starts a numbered step ("2. …") starts a paragraph too.
    const paragraphs = String(text).split(/\n\s*\n|\n(?=\s*\d+\.\s)/)
      .map((part) => part.replace(/\s*\n\s*/g, " ").trim());
    for (const part of paragraphs.filter(Boolean)) box.append(el("p", part));
    return box;
  }

  function renderRules() {
    const box = $("detail-rules");
    const hits = ruleHits(state.detail);
    if (hits.length === 0) {
      box.replaceChildren(el("p", t("detail.none"), "muted"));
      return;
    }
    box.replaceChildren(...hits.map((hit) => {
      const rule = ruleMeta(hit);
      const article = el("article", null, "rule");
      article.dataset.rule = rule.rule_id;
      const head = el("div", null, "rule-head");
      const severity = rule.severity || "unknown";
      head.append(el("strong", ruleTitle(hit), "rule-title"),
        el("span", t(`severity.${severity}`), `badge severity-${severity}`),
        el("span", t("rule.counts", { alerts: rule.alerts ?? "—", count: rule.count ?? "—" }), "muted small"));
      article.append(head, el("p", rule.rule_id, "muted small mono"));
      const description = english() ? rule.description || rule.description_vi : rule.description_vi || rule.description;
      if (description) article.append(paragraph(t("rule.description"), description));
      const notes = english() || !(rule.falsepositives_vi || []).length ? rule.falsepositives : rule.falsepositives_vi;
      const falsePositives = (notes || []).filter((item) => item && item !== "Unknown" && item !== "Không rõ");
      if (falsePositives.length) {
        const list = el("ul");
        list.append(...falsePositives.map((item) => el("li", item)));
        const part = el("div", null, "rule-part");
        part.append(el("strong", t("rule.falsepositives")), list);
        article.append(part);
      }
      const response = english() ? rule.response || rule.response_vi : rule.response_vi || rule.response;
      if (response) article.append(paragraph(t("rule.response"), response));
      if (!description && !response) article.append(el("p", t("rule.no_guide"), "muted small"));
      return article;
    }));
  }

  // The detail's ATT&CK block; from an older API, the incident's ids and its rules' ATT&CK named from GET /attack.
  function attackOf(d) {
    if (d.attack) return d.attack;
    const names = state.attackNames || { techniques: {}, tactics: {} };
    const merged = { techniques: new Map(), tactics: new Map() };
    for (const kind of ["techniques", "tactics"]) {
      for (const id of d[`attack_${kind}`] || []) merged[kind].set(id, { id, name: names[kind]?.[id] });
      for (const hit of ruleHits(d)) {
        for (const item of ruleMeta(hit).attack?.[kind] || []) if (!merged[kind].has(item.id)) merged[kind].set(item.id, item);
      }
    }
    return { version: names.version, techniques: [...merged.techniques.values()], tactics: [...merged.tactics.values()] };
  }

  function attackItem(item) {
    const li = el("li");
    li.append(el("span", item.id, "tag"), el("span", ` ${item.name || ""}`));
    return li;
  }

  function renderAttack() {
    const attack = attackOf(state.detail);
    const box = $("detail-attack");
    const parts = [];
    for (const [key, items] of [["attack.techniques", attack.techniques || []], ["attack.tactics", attack.tactics || []]]) {
      if (!items.length) continue;
      const list = el("ul", null, "attack-list");
      list.append(...items.map(attackItem));
      parts.push(el("p", t(key), "muted small"), list);
    }
    if (parts.length === 0) parts.push(el("p", t("detail.none"), "muted"));
    else if (attack.version) parts.push(el("p", t("attack.version", { version: attack.version }), "muted small"));
    box.replaceChildren(...parts);
  }

  // --- alerts and evidence -------------------------------------------------------------------

  function renderAlerts() {
    const box = $("detail-alerts");
    const groups = alertGroups(state.detail);
    if (groups.length === 0) {
      box.replaceChildren(el("p", t("detail.no_alerts"), "muted"));
      return;
    }
    const rows = groups.map((g) => {
      const severity = g.example?.severity || "unknown";
      return [ruleTitle(g), el("span", t(`severity.${severity}`), `badge severity-${severity}`),
        t("alert.times", { n: g.alerts }), g.count, formatTime(g.first_seen), formatTime(g.last_seen)];
    });
    const grouped = table([t("alert.rule"), t("col.severity"), t("alert.alerts"), t("alert.events"),
      t("col.first_seen"), t("col.last_seen")], rows);
    grouped.classList.add("alert-groups");
    box.replaceChildren(grouped);
  }

  function evidenceIds() {
    const ids = [];
    for (const alert of state.detail?.alerts || []) {
      for (const id of alert.event_ids || []) if (!ids.includes(id)) ids.push(id);
    }
    return ids;
  }

  async function loadEvidence(generation) {
    const wanted = evidenceIds().slice(0, MAX_EVIDENCE).filter((id) => !state.events.has(id));
    await Promise.all(wanted.map(async (id) => {
      try {
        state.events.set(id, await api(`/api/v1/events/${encodeURIComponent(id)}`));
      } catch (error) {
        if (error.status === 404) state.events.set(id, null);
        else if (error.status === 401) throw error;
      }
    }));
    if (generation === state.generation) renderEvidence();
  }

  // The events around one: same source address (or the same system), a few minutes either side.
  function surroundings(event) {
    const at = Date.parse(event["@timestamp"]);
    const fields = [];
    if (event["source.ip"]) fields.push(`source.ip:${event["source.ip"]}`);
    else if (event["service.id"]) fields.push(`service.id:${event["service.id"]}`);
    else if (event["host.name"]) fields.push(`host.name:${event["host.name"]}`);
    const minutes = AROUND_MINUTES * 60 * 1000;
    return { q: "", fields, agency: state.detail?.agency || "",
      since: Number.isNaN(at) ? null : new Date(at - minutes), until: Number.isNaN(at) ? null : new Date(at + minutes) };
  }

  function renderEvidence() {
    const box = $("detail-evidence");
    const ids = evidenceIds();
    const shown = ids.slice(0, MAX_EVIDENCE).filter((id) => state.events.has(id));
    if (shown.length === 0) {
      box.replaceChildren(el("p", t(ids.length ? "loading" : "detail.no_evidence"), "muted"));
      return;
    }
    const items = shown.map((id) => {
      const event = state.events.get(id);
      if (!event) return el("p", t("detail.evidence_missing", { id }), "muted");
      const article = el("article", null, "event");
      const meta = [formatTime(event["@timestamp"]), event["event.dataset"], event["source.ip"], event["url.domain"]];
      const head = el("div", null, "event-meta");
      const around = el("button", t("evidence.around", { minutes: AROUND_MINUTES }), "link around");
      around.type = "button";
      around.addEventListener("click", () => state.hooks.discover(surroundings(event)));
      head.append(el("span", meta.filter(Boolean).join(" · ")), around);
      article.append(head, el("pre", event["event.original"]));
      return article;
    });
    if (ids.length > shown.length) items.push(el("p", t("detail.evidence_more", { shown: shown.length, total: ids.length }), "muted"));
    box.replaceChildren(...items);
  }

  window.Detail = {
    init, select, openFromHash, close, reset, load, render, refreshIfChanged,
    get selectedId() {
      return state.selectedId;
    },
  };
  window.Detail.states = STATES;
})();
