// The posture view (tình trạng an toàn thông tin): the score of the caller's subtree (or a chosen agency),
// open incidents, MTTA/MTTR, SLA compliance, overdue deadlines, the most attacked systems, the ranking, and
// weekly trends (opened and open incidents, MTTA, MTTR) drawn with Chart.js.
(() => {
  "use strict";

  const { t, formatTime } = window.I18n;
  const { $, el, setText, table, api } = window.Canh;
  const SEVERITIES = ["low", "medium", "high", "critical"];
  const TREND_DAYS = 84; // twelve weeks
  const MAX_OVERDUE_ROWS = 15;
  let state = { me: null, generation: 0, agency: "" };

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    const minutes = Math.round(seconds / 60);
    return t("duration", { hours: Math.floor(minutes / 60), minutes: minutes % 60 });
  }

  function percent(value) {
    return value === null || value === undefined ? "—" : `${Math.round(value * 1000) / 10}%`;
  }

  function counts(box, items) {
    box.replaceChildren(items.length ? table([t("posture.name"), t("posture.count")], items.map((c) => [c.key, c.count]))
      : el("p", t("posture.none"), "muted"));
  }

  function render(posture, ranking, agencies) {
    setText($("posture-score"), posture.score);
    setText($("posture-open"), posture.open_total);
    setText($("posture-serious"), posture.serious_open);
    setText($("posture-mtta"), duration(posture.mtta_seconds));
    setText($("posture-mttr"), duration(posture.mttr_seconds));
    setText($("posture-sla"), percent(posture.sla_compliance));
    setText($("posture-period"), t("posture.period", { start: formatTime(posture.period_start), end: formatTime(posture.period_end) }));
    $("posture-severity").replaceChildren(table(SEVERITIES.map((s) => t(`severity.${s}`)),
      [SEVERITIES.map((s) => posture.open_by_severity[s] ?? 0)]));
    const overdue = posture.overdue.slice(0, MAX_OVERDUE_ROWS);
    $("posture-overdue").replaceChildren(...(overdue.length
      ? [table([t("col.id"), t("clock.kind"), t("clock.due")],
        overdue.map((o) => [o.incident_id, t(`clock.${o.kind}`), formatTime(o.due)]))]
      : [el("p", t("posture.none"), "muted")]),
    ...((posture.overdue_total ?? posture.overdue.length) > overdue.length
      ? [el("p", t("posture.overdue_more", { shown: overdue.length, total: posture.overdue_total ?? posture.overdue.length }),
            "muted small")]
      : []));
    counts($("posture-systems"), posture.top_systems.map((c) => ({ key: agencies.systems.get(c.key) || c.key, count: c.count })));
    counts($("posture-rules"), posture.top_rules.map((c) => ({ key: agencies.rules.get(c.key) || c.key, count: c.count })));
    $("posture-ranking").replaceChildren(ranking.entries.length
      ? table([t("posture.rank"), t("col.agency"), t("posture.score"), t("posture.open"), t("posture.overdue")],
        ranking.entries.map((e) => [`${e.rank}/${ranking.total}`, I18n.language === "en" ? e.name_en : e.name_vi,
          e.score, e.open_total, e.overdue]))
      : el("p", t("posture.none"), "muted"));
  }

  // Weekly trends over TREND_DAYS, whatever the period of the figures above.
  function renderTrends(weeks) {
    $("posture-trends-empty").hidden = weeks.length > 0;
    $("posture-trends-charts").hidden = weeks.length === 0;
    if (!weeks.length) return;
    const { COLORS } = Charts;
    Charts.weeklyTrend($("chart-posture-incidents"), weeks, [
      { field: "opened", label: t("trend.opened"), color: COLORS.high, axis: "y" },
      { field: "open_at_end", label: t("trend.open_at_end"), color: COLORS.ink, axis: "y", line: true },
    ], { y: { title: t("posture.count") } });
    Charts.weeklyTrend($("chart-posture-times"), weeks, [
      { field: "mtta_minutes", label: t("trend.mtta"), color: COLORS.blue, axis: "minutes", line: true },
      { field: "mttr_hours", label: t("trend.mttr"), color: COLORS.teal, axis: "hours", line: true },
    ], { minutes: { title: t("trend.minutes") }, hours: { title: t("trend.hours"), position: "right" } });
  }

  async function load() {
    const generation = ++state.generation;
    const agency = $("posture-agency").value;
    const query = agency ? `?agency=${encodeURIComponent(agency)}` : "";
    try {
      const [posture, ranking, systems, trend, rules] = await Promise.all([
        api(`/api/v1/posture${query}`), api(`/api/v1/posture/ranking?level=${$("posture-level").value}`),
        api("/api/v1/systems"), api(`/api/v1/posture?days=${TREND_DAYS}${agency ? `&agency=${encodeURIComponent(agency)}` : ""}`),
        api("/api/v1/rules").catch(() => [])]);
      if (generation !== state.generation) return;
      $("posture-message").hidden = true;
      const ruleName = (r) => (I18n.language === "en" ? r.title : r.title_vi || r.title);
      render(posture, ranking, { systems: new Map(systems.map((s) => [s.id, s.name])),
        rules: new Map(rules.map((r) => [r.id, ruleName(r)])) });
      renderTrends(trend.weeks || []);
    } catch (error) {
      if (generation !== state.generation) return;
      $("posture-message").hidden = false;
      $("posture-message").textContent = t("error.generic", { detail: error.message });
    }
  }

  function monitoringPath(period) {
    const agency = $("posture-agency").value;
    return `/api/v1/reports/monitoring?period=${period}&format=html${agency ? `&agency=${encodeURIComponent(agency)}` : ""}`;
  }

  function show(me, agencyOptions) {
    state.me = me;
    const select = $("posture-agency");
    const chosen = select.value;
    select.replaceChildren(...agencyOptions());
    select.value = chosen;
    load();
  }

  function wire(openReport) {
    $("posture-agency").addEventListener("change", load);
    $("posture-level").addEventListener("change", load);
    $("posture-daily").addEventListener("click", () => openReport(monitoringPath("daily")));
    $("posture-weekly").addEventListener("click", () => openReport(monitoringPath("weekly")));
  }

  window.Posture = { show, wire, load };
})();
