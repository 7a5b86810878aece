// Behaviour (data-leak) alerts on the incident page: the sentence that explains the alert, its findings against
// the account's own normal and its peers, new networks and devices, an SVG chart of the feature with its usual
// band (mean ± 2 standard deviations), and the analyst's "expected work" feedback. Text goes in with
// textContent only: names, units and reasons come from logs and people.
(() => {
  "use strict";

  const { t, formatTime } = window.I18n;
  const { $, el, table, request } = window.Canh;
  const SVG = "http://www.w3.org/2000/svg";
  const SHOWN = 5; // behaviour alerts explained at length; the alert table lists the rest
  const WRITERS = ["soc_admin", "soc_analyst", "agency_responder"];
  const SOC = ["soc_admin", "soc_analyst"];
  const SUPPRESS_DAYS = [0, 1, 7, 30, 90];
  const REASON_MAX = 500;
  const CHART = { width: 640, height: 210, left: 52, right: 12, top: 12, bottom: 34 };
  const drafts = new Map(); // alert id -> { open, reason, learn, days }: kept across the page's quiet reloads

  const english = () => I18n.language === "en";
  const number = (value, digits = 1) => (typeof value === "number" && Number.isFinite(value)
    ? value.toLocaleString(english() ? "en-US" : "vi-VN", { maximumFractionDigits: digits }) : "—");

  function featureLabel(feature) {
    const key = `behaviour.feature.${feature}`;
    const text = t(key);
    return text === key ? String(feature) : text;
  }

  function behaviourAlerts(d) {
    return (d.alerts || []).filter((alert) => alert.detector === "behaviour" && alert.details);
  }

  // --- the explanation ---------------------------------------------------------------------

  function facts(rows) {
    const list = el("dl", null, "facts");
    for (const [label, value] of rows) {
      const dd = el("dd");
      if (value instanceof Node) dd.append(value);
      else dd.textContent = value === undefined || value === null || value === "" ? "—" : String(value);
      list.append(el("dt", label), dd);
    }
    return list;
  }

  function entityText(entity, alert) {
    const id = entity?.id || alert.entities?.["user.name"] || "—";
    return entity?.name && entity.name !== id ? `${id} (${entity.name})` : id;
  }

  function windowText(span) {
    if (!span?.start) return null;
    const size = t(`behaviour.size.${span.size || "hour"}`);
    return `${formatTime(span.start)} – ${formatTime(span.end)} (${size})`;
  }

  function findingsTable(findings) {
    const rows = findings.map((f) => [featureLabel(f.feature), number(f.value),
      `${number(f.baseline_mean)} ± ${number(f.baseline_std)}`, number(f.peer_median),
      typeof f.ratio === "number" ? t("behaviour.times", { n: number(f.ratio) }) : "—"]);
    const element = table([t("behaviour.feature"), t("behaviour.value"), t("behaviour.usual"),
      t("behaviour.peers"), t("behaviour.ratio")], rows);
    element.classList.add("feature-table", "behaviour-findings");
    return element;
  }

  function part(alert, context) {
    const details = alert.details;
    const entity = details.entity || {};
    const article = el("article", null, "behaviour-alert");
    article.dataset.alert = alert.id;
    const explanation = english() ? details.explanation_en || details.explanation_vi
      : details.explanation_vi || details.explanation_en;
    if (explanation) article.append(el("p", explanation, "behaviour-explanation"));
    const rows = [
      [t(entity.kind === "client" ? "behaviour.entity_client" : "behaviour.entity_official"), entityText(entity, alert)],
      [t("behaviour.unit"), entity.unit],
      [t("behaviour.window"), windowText(details.window)],
    ];
    if (entity.system) rows.push([t("col.system"), entity.system]);
    if ((details.new_networks || []).length) rows.push([t("behaviour.new_networks"), details.new_networks.join(", ")]);
    if (details.new_devices) rows.push([t("behaviour.new_devices"), number(details.new_devices, 0)]);
    if (typeof details.multivariate_score === "number") {
      rows.push([t("behaviour.multivariate"), number(details.multivariate_score, 4)]);
    }
    article.append(facts(rows));
    if ((details.findings || []).length) {
      article.append(findingsTable(details.findings), el("p", t("behaviour.findings_note"), "muted small"));
    }
    article.append(chartFigure(details.series));
    const around = aroundButton(alert, context);
    if (around) article.append(around);
    article.append(feedbackPart(alert, context));
    return article;
  }

  // The account's own events in the alert's window, in event search.
  function aroundButton(alert, context) {
    const account = alert.entities?.["user.name"];
    const span = alert.details.window || {};
    if (!account || !context.discover) return null;
    const fields = [`user.name:${account}`];
    if (alert.entities["egov.caller.system"]) fields.push(`egov.caller.system:${alert.entities["egov.caller.system"]}`);
    const button = el("button", t("behaviour.around"), "link around");
    button.type = "button";
    button.addEventListener("click", () => context.discover({ q: "", fields, agency: alert.agency || "",
      since: new Date(span.start || alert.first_seen), until: new Date(span.end || alert.last_seen) }));
    return button;
  }

  // --- the chart -----------------------------------------------------------------------------

  function svg(tag, attributes, text) {
    const element = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes || {})) element.setAttribute(name, String(value));
    if (text !== undefined) element.textContent = String(text);
    return element;
  }

  // Hours are instants (labelled in Vietnam's time by the page's chart code); days are local dates already.
  function pointLabel(at, step, spanSeconds) {
    const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(at));
    if (day) return `${day[3]}/${day[2]}`;
    if (window.Charts?.timeLabel) return Charts.timeLabel(at, step === "day" ? 30 * 86400 : spanSeconds);
    return formatTime(at);
  }

  function chartPoints(series) {
    return (series?.points || []).filter((p) => Array.isArray(p) && typeof p[1] === "number")
      .map(([at, value, mean, std]) => ({ at, value, mean: Number(mean) || 0, std: Math.max(0, Number(std) || 0) }));
  }

  function chartFigure(series) {
    const figure = el("figure", null, "chart-card behaviour-chart");
    const points = chartPoints(series);
    if (points.length === 0) {
      figure.append(el("p", t("behaviour.no_series"), "muted small"));
      return figure;
    }
    const feature = featureLabel(series.feature);
    figure.append(drawChart(points, series.step || "hour", feature),
      el("figcaption", t(series.step === "day" ? "behaviour.chart_caption_day" : "behaviour.chart_caption_hour",
        { feature }), "muted small"));
    return figure;
  }

  function drawChart(points, step, feature) {
    const { width, height, left, right, top, bottom } = CHART;
    const high = Math.max(1, ...points.map((p) => Math.max(p.value, p.mean + 2 * p.std)));
    const plotWidth = width - left - right;
    const slot = plotWidth / points.length;
    const x = (index) => left + slot * (index + 0.5);
    const y = (value) => top + (height - top - bottom) * (1 - Math.max(0, value) / high);
    const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "behaviour-svg",
      "aria-label": t("behaviour.chart_label", { feature }) });
    chart.dataset.points = String(points.length);

    const band = points.map((p, i) => `${x(i)},${y(p.mean + 2 * p.std)}`)
      .concat(points.map((p, i) => `${x(i)},${y(p.mean - 2 * p.std)}`).reverse());
    chart.append(svg("polygon", { points: band.join(" "), class: "band" }),
      svg("polyline", { points: points.map((p, i) => `${x(i)},${y(p.mean)}`).join(" "), class: "mean" }),
      svg("line", { x1: left, x2: width - right, y1: y(0), y2: y(0), class: "axis" }),
      svg("text", { x: left - 6, y: y(high) + 4, class: "tick", "text-anchor": "end" }, number(high, 0)),
      svg("text", { x: left - 6, y: y(0) + 4, class: "tick", "text-anchor": "end" }, "0"),
      svg("polyline", { points: points.map((p, i) => `${x(i)},${y(p.value)}`).join(" "), class: "value" }));

    const first = Date.parse(points[0].at);
    const spanSeconds = Number.isNaN(first) ? 0 : (Date.parse(points.at(-1).at) - first) / 1000;
    const every = Math.max(1, Math.ceil(points.length / 6));
    points.forEach((p, i) => {
      const last = i === points.length - 1;
      const label = pointLabel(p.at, step, spanSeconds);
      const dot = svg("circle", { cx: x(i), cy: y(p.value), r: last ? 4.5 : 3, class: last ? "point window" : "point" });
      dot.dataset.value = String(p.value);
      dot.append(svg("title", {}, `${label}: ${number(p.value)} (${t("behaviour.usual")} ${number(p.mean)} ± ${number(p.std)})`));
      chart.append(dot);
      if (i % every === 0 || last) {
        chart.append(svg("text", { x: x(i), y: height - bottom + 16, class: "tick", "text-anchor": "middle" }, label));
      }
    });
    return chart;
  }

  // --- feedback ------------------------------------------------------------------------------

  function feedbackShown(feedback) {
    const box = el("div", null, "behaviour-feedback done");
    box.append(el("strong", t("behaviour.marked")),
      el("p", t("behaviour.marked_by", { actor: feedback.actor || "—", at: formatTime(feedback.at) })),
      el("p", feedback.reason || "—", "reason"),
      el("p", t(feedback.learn === false ? "behaviour.not_learned" : "behaviour.learned"), "muted small"));
    if (feedback.suppress_until) {
      box.append(el("p", t("behaviour.suppressed_until", { at: formatTime(feedback.suppress_until) }), "muted small"));
    }
    return box;
  }

  function feedbackPart(alert, context) {
    const feedback = alert.details.feedback;
    if (feedback) return feedbackShown(feedback);
    const role = context.me?.role;
    const box = el("div", null, "behaviour-feedback");
    if (!WRITERS.includes(role)) return box;
    const draft = drafts.get(alert.id) || { open: false, reason: "", learn: true, days: 0 };
    const open = el("button", t("behaviour.mark"), "mark-expected");
    open.type = "button";
    const form = el("form", null, "feedback-form");
    form.hidden = !draft.open;
    open.hidden = draft.open;

    const reasonLabel = el("label", t("behaviour.reason"));
    const reason = el("textarea");
    reason.rows = 2;
    reason.maxLength = REASON_MAX;
    reason.name = "reason";
    reason.placeholder = t("behaviour.reason_placeholder");
    reason.value = draft.reason;
    reasonLabel.append(reason);

    const learnLabel = el("label", null, "check");
    const learn = el("input");
    learn.type = "checkbox";
    learn.name = "learn";
    learn.checked = draft.learn;
    learnLabel.append(learn, document.createTextNode(` ${t("behaviour.learn")}`));
    form.append(reasonLabel, learnLabel);

    let days = null;
    if (SOC.includes(role)) {
      const daysLabel = el("label", t("behaviour.suppress"));
      days = el("select");
      days.name = "suppress_days";
      for (const n of SUPPRESS_DAYS) {
        const option = el("option", n ? t("behaviour.suppress_days", { n }) : t("behaviour.suppress_none"));
        option.value = String(n);
        days.append(option);
      }
      days.value = String(draft.days);
      daysLabel.append(days);
      form.append(daysLabel);
    }
    const submit = el("button", t("behaviour.submit"), "primary");
    submit.type = "submit";
    const cancel = el("button", t("behaviour.cancel"));
    cancel.type = "button";
    const row = el("div", null, "action-row");
    row.append(submit, cancel);
    const message = el("p", null, "message");
    message.hidden = true;
    message.setAttribute("role", "status");
    form.append(row, message);

    const remember = () => drafts.set(alert.id, { open: !form.hidden, reason: reason.value, learn: learn.checked,
      days: days ? Number(days.value) : 0 });
    for (const input of [reason, learn, days].filter(Boolean)) {
      input.addEventListener("input", remember);
      input.addEventListener("change", remember);
    }
    open.addEventListener("click", () => {
      form.hidden = false;
      open.hidden = true;
      remember();
      reason.focus();
    });
    cancel.addEventListener("click", () => {
      drafts.delete(alert.id);
      form.hidden = true;
      open.hidden = false;
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = reason.value.trim();
      const show = (key, vars) => {
        message.hidden = false;
        message.textContent = t(key, vars);
      };
      if (!text) return show("behaviour.need_reason");
      submit.disabled = true;
      try {
        await request(`/api/v1/alerts/${encodeURIComponent(alert.id)}/feedback`, { method: "POST",
          body: { verdict: "expected", reason: text, learn: learn.checked, suppress_days: days ? Number(days.value) : 0 } });
        drafts.delete(alert.id);
        context.onChanged();
      } catch (error) {
        if (error.status === 401) return context.onError(error);
        const field = error.problem?.errors?.[0];
        show("behaviour.failed", { detail: field ? `${field.field}: ${field.message}` : error.message });
      } finally {
        submit.disabled = false;
      }
    });
    box.append(open, form);
    return box;
  }

  // --- the section ---------------------------------------------------------------------------

  // context: { me, onChanged(), onError(error), discover(filters) }
  function render(d, context) {
    const section = $("detail-behaviour-section");
    const alerts = behaviourAlerts(d);
    section.hidden = alerts.length === 0;
    if (section.hidden) return;
    const parts = alerts.slice(0, SHOWN).map((alert) => part(alert, context));
    if (alerts.length > SHOWN) parts.push(el("p", t("behaviour.more", { n: alerts.length - SHOWN }), "muted small"));
    $("detail-behaviour").replaceChildren(...parts);
  }

  window.Behaviour = { render };
})();
