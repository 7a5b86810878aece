// Events over time: fetched from GET /events/histogram and drawn as bars, with an optional baseline
// line and a highlighted window. Drawn with the vendored Chart.js when the page has it, else on a plain
// canvas (the charts must work on networks without internet access either way).
(() => {
  "use strict";

  const { request } = window.Canh;
  const BAR = "#5b6675";
  const HIGHLIGHT = "#a5161d";
  const BASELINE = "#1f5fbf";
  const charts = new WeakMap(); // canvas -> Chart instance, destroyed before drawing again

  // params: URLSearchParams with q, field, since, until, agency (and interval when wanted).
  async function histogram(params) {
    return request(`/api/v1/events/histogram?${params}`);
  }

  function label(iso, spanSeconds) {
    const date = new Date(iso);
    const parts = {};
    const format = new Intl.DateTimeFormat("vi-VN", { timeZone: "Asia/Ho_Chi_Minh", hour12: false,
      day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit" });
    for (const part of format.formatToParts(date)) parts[part.type] = part.value;
    const time = `${parts.hour}:${parts.minute}`;
    return spanSeconds > 86400 ? `${parts.day}/${parts.month} ${time}` : time;
  }

  // buckets: [{start, count}]; options: { baseline: number|null, highlight: [startMs, endMs]|null, labels }
  function draw(canvas, buckets, options = {}) {
    const previous = charts.get(canvas);
    if (previous) previous.destroy();
    charts.delete(canvas);
    const span = buckets.length > 1 ? (Date.parse(buckets.at(-1).start) - Date.parse(buckets[0].start)) / 1000 : 0;
    const labels = buckets.map((b) => label(b.start, span));
    // A bar is highlighted when its bucket overlaps the highlighted period.
    const width = buckets.length > 1 ? Date.parse(buckets[1].start) - Date.parse(buckets[0].start) : 0;
    const inWindow = (b) => options.highlight && Date.parse(b.start) < options.highlight[1]
      && Date.parse(b.start) + width > options.highlight[0];
    const colors = buckets.map((b) => (inWindow(b) ? HIGHLIGHT : BAR));
    canvas.dataset.buckets = String(buckets.length);
    canvas.dataset.total = String(buckets.reduce((sum, b) => sum + b.count, 0));
    if (window.Chart) {
      const datasets = [{ type: "bar", label: options.labels?.count || "", data: buckets.map((b) => b.count),
        backgroundColor: colors, order: 2 }];
      if (typeof options.baseline === "number") {
        datasets.push({ type: "line", label: options.labels?.baseline || "", data: buckets.map(() => options.baseline),
          borderColor: BASELINE, borderDash: [6, 4], pointRadius: 0, borderWidth: 2, order: 1 });
      }
      charts.set(canvas, new window.Chart(canvas, {
        data: { labels, datasets },
        options: { animation: false, responsive: true, maintainAspectRatio: false,
          plugins: { legend: { display: datasets.length > 1, labels: { boxWidth: 12 } } },
          scales: { x: { ticks: { maxRotation: 0, autoSkip: true, maxTicksLimit: 8 } }, y: { beginAtZero: true } } },
      }));
      return;
    }
    drawPlain(canvas, buckets, labels, colors, options.baseline);
  }

  function drawPlain(canvas, buckets, labels, colors, baseline) {
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth || 300;
    const height = canvas.clientHeight || 140;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const ctx = canvas.getContext("2d");
    ctx.scale(ratio, ratio);
    ctx.clearRect(0, 0, width, height);
    const left = 36;
    const bottom = height - 18;
    const top = 8;
    const max = Math.max(1, baseline || 0, ...buckets.map((b) => b.count));
    const step = buckets.length ? (width - left - 4) / buckets.length : 0;
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillStyle = "#5b6675";
    ctx.fillText(String(max), 2, top + 8);
    ctx.fillText("0", 2, bottom);
    buckets.forEach((b, i) => {
      const h = ((bottom - top) * b.count) / max;
      ctx.fillStyle = colors[i];
      ctx.fillRect(left + i * step + 1, bottom - h, Math.max(1, step - 2), h);
    });
    const every = Math.max(1, Math.ceil(buckets.length / 6));
    ctx.fillStyle = "#5b6675";
    labels.forEach((text, i) => {
      if (i % every === 0) ctx.fillText(text, left + i * step, height - 4);
    });
    if (typeof baseline === "number") {
      const y = bottom - ((bottom - top) * baseline) / max;
      ctx.strokeStyle = BASELINE;
      ctx.setLineDash([6, 4]);
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(left, y);
      ctx.lineTo(width - 4, y);
      ctx.stroke();
    }
  }

  window.TimeChart = { draw, histogram };
})();
