// The incident's clocks (thời hạn), its serious-incident flag, the lifecycle actions and the report drafts.
// Every write sends If-Match with the version shown; a 412 means someone else changed the incident first.
(() => {
  "use strict";

  const { t, formatTime } = window.I18n;
  const { $, el, setText, request } = window.Canh;
  const WRITERS = ["soc_admin", "soc_analyst", "agency_responder"];
  const NEXT = {
    new: ["acknowledged", "investigating", "contained", "resolved", "closed"],
    acknowledged: ["investigating", "contained", "resolved", "closed"],
    investigating: ["contained", "resolved", "closed"],
    contained: ["investigating", "resolved", "closed"],
    resolved: ["closed"],
    closed: [],
  };
  const RESOLUTIONS = ["true_positive", "false_positive", "benign", "duplicate"];
  let current = null; // { detail, me, onChanged }

  function option(value, label) {
    const element = el("option", label);
    element.value = value;
    return element;
  }

  function renderClocks(detail) {
    const box = $("detail-clocks");
    const rows = (detail.clocks || []).map((clock) => {
      const row = el("tr", null, clock.overdue ? "overdue" : "");
      row.append(el("td", t(`clock.${clock.kind}`)), el("td", formatTime(clock.due)),
        el("td", t(`clock.status.${clock.status}`), `clock-${clock.status}`));
      return row;
    });
    const table = el("table", null, "compact");
    const head = el("tr");
    for (const key of ["clock.kind", "clock.due", "clock.status"]) head.append(el("th", t(key)));
    table.append(el("thead"), el("tbody"));
    table.tHead.append(head);
    table.tBodies[0].append(...rows);
    box.replaceChildren(table);
    const serious = detail.serious_assessment || {};
    setText($("detail-serious"), serious.serious ? t("serious.yes") : t("serious.no"));
    $("detail-serious").className = serious.serious ? "serious" : "muted";
  }

  function renderActions(detail, me) {
    const writable = WRITERS.includes(me?.role) && !detail.merged_into;
    $("detail-actions").hidden = !writable;
    if (!writable) return;
    const stateSelect = $("action-state");
    stateSelect.replaceChildren(option("", t("action.choose_state")),
      ...(NEXT[detail.state] || []).map((state) => option(state, t(`state.${state}`))));
    const resolution = $("action-resolution");
    resolution.replaceChildren(option("", t("action.choose_resolution")),
      ...RESOLUTIONS.map((value) => option(value, t(`resolution.${value}`))));
    $("action-reopen").hidden = !["resolved", "closed"].includes(detail.state);
    $("action-transition").hidden = (NEXT[detail.state] || []).length === 0;
    $("action-assignee").value = detail.assignee || "";
  }

  function showResult(key, vars) {
    const box = $("action-message");
    box.hidden = !key;
    if (key) box.textContent = t(key, vars);
  }

  async function write(path, method, body) {
    if (!current) return;
    const { detail, onChanged } = current;
    try {
      const changed = await request(`/api/v1/incidents/${encodeURIComponent(detail.id)}${path}`,
        { method, body, version: detail.version });
      $("action-note").value = "";
      showResult("action.done");
      onChanged(changed);
    } catch (error) {
      if (error.status === 412) {
        showResult("action.stale");
        onChanged(null);
      } else if (error.status === 403) {
        showResult("error.forbidden");
      } else {
        const field = error.problem?.errors?.[0];
        showResult("action.failed", { detail: field ? `${field.field}: ${field.message}` : error.message });
      }
    }
  }

  function note() {
    return $("action-note").value.trim();
  }

  function wire(onReport) {
    $("action-transition").addEventListener("click", () => {
      const state = $("action-state").value;
      if (!state) return;
      const body = { state };
      const resolution = $("action-resolution").value;
      if (resolution && ["resolved", "closed"].includes(state)) body.resolution = resolution;
      if (note()) body.reason = note();
      write("/transition", "POST", body);
    });
    $("action-reopen").addEventListener("click", () => {
      if (!note()) return showResult("action.need_note");
      write("/reopen", "POST", { reason: note() });
    });
    $("action-comment").addEventListener("click", () => {
      if (!note()) return showResult("action.need_note");
      write("/comments", "POST", { text: note() });
    });
    $("action-assign").addEventListener("click", () => {
      write("", "PATCH", { assignee: $("action-assignee").value.trim() || null });
    });
    // The draft may save what the incident stores (handling result, recommendations) when the caller may write.
    const owner = () => (WRITERS.includes(current.me?.role) && !current.detail.merged_into
      ? { detail: current.detail, onChanged: current.onChanged } : null);
    $("report-notice").addEventListener("click", () => current && onReport(
      `/api/v1/incidents/${encodeURIComponent(current.detail.id)}/reports/incident-notice?format=html`, owner()));
    $("report-breach").addEventListener("click", () => current && onReport(
      `/api/v1/incidents/${encodeURIComponent(current.detail.id)}/reports/breach-notice?format=html`, owner()));
  }

  function render(detail, me, onChanged) {
    const changedIncident = current?.detail?.id !== detail.id;
    current = { detail, me, onChanged };
    if (changedIncident) showResult(null);
    renderClocks(detail);
    renderActions(detail, me);
    $("report-breach").hidden = !(detail.categories || []).includes("personal_data_leak");
  }

  window.Actions = { render, wire };
})();
