// Charts on the page, drawn by the vendored Chart.js (vendor/chart.umd.min.js, MIT; see
// docs/decisions/0032-charts-on-the-page.md). Each canvas keeps one chart, updated in place on refresh.
// Labels are drawn on the canvas, never parsed as HTML. Times are labelled in Asia/Ho_Chi_Minh.
(() => {
  "use strict";

  const SEVERITIES = ["low", "medium", "high", "critical"];
  const COLORS = { low: "#2e7d32", medium: "#a86400", high: "#c2410c", critical: "#9f1239",
    ink: "#1c2430", muted: "#5b6675", line: "#d9dee6", blue: "#1f5fbf", teal: "#0f766e" };
  const TIME_ZONE = "Asia/Ho_Chi_Minh";
  const formatters = new Map();
  const available = typeof window.Chart === "function";

  if (available) {
    Chart.defaults.font.family = getComputedStyle(document.documentElement).fontFamily;
    Chart.defaults.color = COLORS.muted;
    Chart.defaults.borderColor = COLORS.line;
    Chart.defaults.animation = false; // refreshes every few seconds; motion would only distract
    Chart.defaults.maintainAspectRatio = false;
  }

  function formatter(options) {
    const key = `${I18n.language}:${JSON.stringify(options)}`;
    if (!formatters.has(key)) {
      formatters.set(key, new Intl.DateTimeFormat(I18n.language === "en" ? "en-GB" : "vi-VN",
        { timeZone: TIME_ZONE, hourCycle: "h23", ...options }));
    }
    return formatters.get(key);
  }

  // Day/month and hour:minute in Vietnam, written as Vietnamese dates are (dd/MM), whatever the locale's habit.
  function parts(date) {
    const found = {};
    for (const part of formatter({ day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit" })
      .formatToParts(date)) found[part.type] = part.value;
    return { day: `${found.day}/${found.month}`, time: `${found.hour}:${found.minute}` };
  }

  // A bucket's label: the hour within a day or two, the day and hour within two weeks, the date beyond.
  function timeLabel(iso, spanSeconds) {
    const { day, time } = parts(new Date(iso));
    if (spanSeconds <= 2 * 86400) return time;
    return spanSeconds <= 14 * 86400 ? `${day} ${time}` : day;
  }

  function dateLabel(isoDate) {
    return parts(new Date(`${isoDate}T12:00:00+07:00`)).day;
  }

  function draw(canvas, config) {
    if (!available) return null;
    const existing = Chart.getChart(canvas);
    if (existing && existing.config.type === config.type) {
      existing.data = config.data;
      existing.options = config.options;
      existing.update();
      return existing;
    }
    existing?.destroy();
    return new Chart(canvas, config);
  }

  function clickHandler(onPick) {
    return (_event, elements) => {
      if (onPick && elements.length) onPick(elements[0].index);
    };
  }

  // Buckets [{start, low, medium, high, critical}] as bars stacked by severity.
  function severityHistogram(canvas, buckets, { spanSeconds, severityLabel, onPick }) {
    return draw(canvas, {
      type: "bar",
      data: {
        labels: buckets.map((bucket) => timeLabel(bucket.start, spanSeconds)),
        datasets: SEVERITIES.map((severity) => ({
          label: severityLabel(severity), data: buckets.map((bucket) => bucket[severity] || 0),
          backgroundColor: COLORS[severity], stack: "alerts", barPercentage: 0.95, categoryPercentage: 0.95,
        })),
      },
      options: {
        onClick: clickHandler(onPick),
        scales: { x: { stacked: true, grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { position: "bottom" }, tooltip: { mode: "index", intersect: false } },
      },
    });
  }

  // Ranked counts as horizontal bars; long names are cut on the axis and shown whole in the tooltip.
  function rankedBars(canvas, items, { label, color, onPick }) {
    // Chart.js gives the axis only part of the width; about one character per 16 px of the chart fits.
    const cut = (text, width) => {
      const most = Math.max(12, Math.round(width / 16));
      return text.length > most ? `${text.slice(0, most - 1)}…` : text;
    };
    return draw(canvas, {
      type: "bar",
      data: {
        labels: items.map((item) => item.name),
        datasets: [{ label, data: items.map((item) => item.count), backgroundColor: color || COLORS.blue,
          barPercentage: 0.8 }],
      },
      options: {
        indexAxis: "y",
        onClick: clickHandler(onPick),
        onHover: (event, elements) => {
          event.native.target.style.cursor = onPick && elements.length ? "pointer" : "default";
        },
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } },
          y: { grid: { display: false }, ticks: { autoSkip: false, callback(value) {
            return cut(String(this.getLabelForValue(value)), this.chart.width);
          } } } },
        plugins: { legend: { display: false } },
      },
    });
  }

  // Weekly series: bars for counts, lines for levels; each series names its axis ("count", "left", "right").
  function weeklyTrend(canvas, weeks, series, axes) {
    return draw(canvas, {
      type: "bar",
      data: {
        labels: weeks.map((week) => dateLabel(week.week_start)),
        datasets: series.map((one) => ({
          type: one.line ? "line" : "bar", label: one.label, data: weeks.map((week) => week[one.field] ?? null),
          backgroundColor: one.color, borderColor: one.color, yAxisID: one.axis, spanGaps: true, tension: 0.2,
          pointRadius: 3,
        })),
      },
      options: {
        scales: Object.fromEntries(Object.entries(axes).map(([id, axis]) => [id, {
          position: axis.position || "left", beginAtZero: true, title: { display: Boolean(axis.title), text: axis.title },
          grid: { drawOnChartArea: axis.position !== "right" }, ticks: { precision: 0 } }])),
        plugins: { legend: { position: "bottom" }, tooltip: { mode: "index", intersect: false } },
      },
    });
  }

  window.Charts = { available, severityHistogram, rankedBars, weeklyTrend, timeLabel, COLORS };
})();
