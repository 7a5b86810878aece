// The numbers behind an anomaly or a correlation incident (observed, baseline, z and threshold, window;
// condition, value, timespan, group), with the events over time around them.
(() => {
  "use strict";

  const { t, formatTime } = window.I18n;
  const { $, el, table } = window.Canh;
  const WINDOWS_BEFORE = 12;
  const WINDOWS_AFTER = 3;

  const number = (value, digits = 2) => (typeof value === "number"
    ? value.toLocaleString(I18n.language === "en" ? "en-US" : "vi-VN", { maximumFractionDigits: digits }) : value ?? "—");

  // The newest alert of each kind; alerts come newest first.
  function evidenceAlerts(d) {
    const alerts = d.alerts || [];
    return {
      anomaly: alerts.find((a) => Array.isArray(a.details?.features)),
      correlation: alerts.find((a) => a.details?.correlation),
    };
  }

  function seconds(timespan) {
    const match = /^(\d+)([smhd])$/.exec(String(timespan || ""));
    return match ? Number(match[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[match[2]] : null;
  }

  function featureValue(feature, value) {
    return feature === "error_rate" && typeof value === "number" ? `${number(value * 100, 1)} %` : number(value);
  }

  function facts(rows) {
    const list = el("dl", null, "facts");
    for (const [label, value] of rows) list.append(el("dt", label), el("dd", value ?? "—"));
    return list;
  }

  function anomalyPart(alert) {
    const details = alert.details;
    const start = Date.parse(details.window_start || alert.first_seen);
    const minutes = details.window_minutes;
    const end = minutes ? start + minutes * 60000 : Date.parse(alert.last_seen);
    const threshold = details.threshold ?? details.min_deviation;
    const part = el("div", null, "numbers anomaly");
    part.append(facts([
      [t("numbers.kind"), t("numbers.anomaly")],
      [t("numbers.window"), `${formatTime(new Date(start))} – ${formatTime(new Date(end))}` +
        (minutes ? ` (${t("numbers.minutes", { n: minutes })})` : "")],
      [t("numbers.score"), number(details.anomaly_score, 4)],
      ...(threshold !== undefined ? [[t("numbers.threshold"), `|z| ≥ ${number(threshold)}`]] : []),
    ]));
    const rows = details.features.map((f) => [t(`feature.${f.feature}`), featureValue(f.feature, f.value),
      featureValue(f.feature, f.baseline), number(f.z)]);
    const features = table([t("numbers.feature"), t("numbers.observed"), t("numbers.baseline"), t("numbers.z")], rows);
    features.classList.add("feature-table");
    part.append(features);
    return part;
  }

  function correlationPart(alert) {
    const details = alert.details;
    const group = Object.entries(details.group || {}).map(([k, v]) => `${k} = ${v}`).join(", ");
    const part = el("div", null, "numbers correlation");
    part.append(facts([
      [t("numbers.kind"), t("numbers.correlation", { kind: details.correlation })],
      [t("numbers.condition"), details.condition],
      [t("numbers.value"), details.value === null || details.value === undefined ? "—" : number(details.value)],
      [t("numbers.timespan"), details.timespan],
      [t("numbers.group"), group || "—"],
      [t("numbers.evidence_total"), number(details.evidence_total ?? alert.count)],
      [t("numbers.period"), `${formatTime(alert.first_seen)} – ${formatTime(alert.last_seen)}`],
    ]));
    return part;
  }

  function render(d) {
    const section = $("detail-numbers-section");
    const box = $("detail-numbers");
    const { anomaly, correlation } = evidenceAlerts(d);
    section.hidden = !anomaly && !correlation;
    if (section.hidden) return;
    const parts = [];
    if (anomaly) parts.push(anomalyPart(anomaly));
    if (correlation) parts.push(correlationPart(correlation));
    box.replaceChildren(...parts);
    $("detail-chart-caption").textContent = t(anomaly ? "numbers.chart_anomaly" : "numbers.chart_correlation");
  }

  // What the chart shows: for an anomaly, the agency's events per window around the window, with the
  // baseline of requests per window; for a correlation, the group's events around the timespan.
  function chartQuery(d) {
    const { anomaly, correlation } = evidenceAlerts(d);
    const params = new URLSearchParams();
    if (d.agency) params.set("agency", d.agency);
    if (anomaly) {
      const minutes = anomaly.details.window_minutes || 5;
      const start = Date.parse(anomaly.details.window_start || anomaly.first_seen);
      const width = minutes * 60000;
      params.set("since", new Date(start - WINDOWS_BEFORE * width).toISOString());
      params.set("until", new Date(start + (1 + WINDOWS_AFTER) * width).toISOString());
      params.set("interval", String(minutes * 60));
      const requests = anomaly.details.features.find((f) => f.feature === "requests");
      return { params, baseline: requests ? requests.baseline : null, highlight: [start, start + width] };
    }
    if (correlation) {
      for (const [name, value] of Object.entries(correlation.details.group || {})) params.append("field", `${name}:${value}`);
      const first = Date.parse(correlation.first_seen);
      const last = Date.parse(correlation.last_seen);
      const margin = Math.max((seconds(correlation.details.timespan) || 300) * 1000, last - first);
      params.set("since", new Date(first - margin).toISOString());
      params.set("until", new Date(last + margin).toISOString());
      return { params, baseline: null, highlight: [first, last + 1] };
    }
    return null;
  }

  async function load(d, stillWanted) {
    const query = chartQuery(d);
    if (!query) return;
    const canvas = $("detail-chart");
    const message = $("detail-chart-message");
    try {
      const found = await TimeChart.histogram(query.params);
      if (!stillWanted()) return;
      message.hidden = true;
      canvas.hidden = false;
      TimeChart.draw(canvas, found.buckets || [], { baseline: query.baseline, highlight: query.highlight,
        labels: { count: t("numbers.events"), baseline: t("numbers.baseline") } });
    } catch (error) {
      if (error.status === 401) throw error;
      if (!stillWanted()) return;
      canvas.hidden = true;
      message.hidden = false;
      message.textContent = t("numbers.chart_unavailable", { detail: error.message });
    }
  }

  window.Numbers = { render, load };
})();
