// Report drafts are printable HTML pages from the API. They need the API key, so the page fetches them
// and shows them in a sandboxed frame (no scripts) with a print button; the server escapes every value.
// The fields an officer completes are editable in the frame (contenteditable needs no script); what the
// incident can store (handling result, recommendations) is saved back with PATCH and If-Match.
(() => {
  "use strict";

  const { $, request } = window.Canh;
  const SAVED_FIELDS = ["handling_result", "recommendations"];
  let context = null; // { detail, onChanged } when the draft belongs to an incident the caller may change

  function say(key, vars, error = true) {
    const box = $("report-message");
    box.hidden = !key;
    box.className = error ? "message error" : "message";
    if (key) box.textContent = window.I18n.t(key, vars);
  }

  function field(name) {
    return $("report-frame").contentDocument?.querySelector(`[data-field="${name}"]`);
  }

  function showSave() {
    $("report-save").hidden = !(context && SAVED_FIELDS.some((name) => field(name)));
  }

  async function open(path, owner = null) {
    const dialog = $("report-dialog");
    const frame = $("report-frame");
    context = owner;
    say(null);
    $("report-save").hidden = true;
    try {
      const html = await request(path, { accept: "text/html" });
      frame.addEventListener("load", showSave, { once: true });
      frame.srcdoc = html;
      if (!dialog.open) dialog.showModal();
    } catch (error) {
      say("action.failed", { detail: error.message });
      if (!dialog.open) dialog.showModal();
    }
  }

  async function save() {
    if (!context) return;
    const body = {};
    for (const name of SAVED_FIELDS) {
      const element = field(name);
      if (element) body[name] = element.innerText.trim();
    }
    const { detail } = context;
    try {
      const changed = await request(`/api/v1/incidents/${encodeURIComponent(detail.id)}`,
        { method: "PATCH", body, version: detail.version });
      context = { ...context, detail: changed };
      say("report.saved", null, false);
      context.onChanged(changed);
    } catch (error) {
      if (error.status === 412) say("action.stale");
      else if (error.status === 403) say("error.forbidden");
      else {
        const problem = error.problem?.errors?.[0];
        say("action.failed", { detail: problem ? `${problem.field}: ${problem.message}` : error.message });
      }
    }
  }

  function wire() {
    $("report-close").addEventListener("click", () => $("report-dialog").close());
    $("report-print").addEventListener("click", () => $("report-frame").contentWindow?.print());
    $("report-save").addEventListener("click", () => save());
  }

  window.Reports = { open, wire };
})();
