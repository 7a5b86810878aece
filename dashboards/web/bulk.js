// Bulk acknowledge / assign / close of the incidents ticked in the list, with one reason. The server checks
// each incident as if it were changed alone; the ones it refuses are listed with its reason.
(() => {
  "use strict";

  const { t } = window.I18n;
  const { $, el, request } = window.Canh;
  const ACTIONS = ["acknowledge", "assign", "close"];
  const RESOLUTIONS = ["true_positive", "false_positive", "benign", "duplicate"];
  const MAX_IDS = 200;
  let enabled = false;
  let lastResult = null; // { ok, failed: [{id, status, detail}] } of the last bulk action

  function option(value, label) {
    const element = el("option", label);
    element.value = value;
    return element;
  }

  function renderChoices() {
    const action = $("bulk-action");
    const chosenAction = action.value || "acknowledge";
    action.replaceChildren(...ACTIONS.map((value) => option(value, t(`bulk.${value}`))));
    action.value = chosenAction;
    const resolution = $("bulk-resolution");
    const chosenResolution = resolution.value;
    resolution.replaceChildren(option("", t("action.choose_resolution")),
      ...RESOLUTIONS.map((value) => option(value, t(`resolution.${value}`))));
    resolution.value = chosenResolution;
    $("bulk-assignee").hidden = action.value !== "assign";
    $("bulk-resolution").hidden = action.value !== "close";
  }

  function showResult() {
    const box = $("bulk-result");
    box.hidden = !lastResult;
    if (!lastResult) return;
    const { ok, failed, error } = lastResult;
    const lines = [el("p", error || t("bulk.done", { ok, total: ok + failed.length }))];
    if (failed.length) {
      const list = el("ul", null, "bulk-failures");
      for (const item of failed) {
        list.append(el("li", `${item.id}: ${item.detail || t("bulk.failed")} (${item.status})`));
      }
      lines.push(list);
    }
    box.className = `message${failed.length || error ? " error" : ""}`;
    box.replaceChildren(...lines);
  }

  function update(picked) {
    $("bulk").hidden = !enabled || picked.length === 0;
    $("bulk-count").textContent = t("bulk.count", { count: picked.length });
    renderChoices();
    showResult();
  }

  function body(ids) {
    const action = $("bulk-action").value;
    const payload = { ids, action, reason: $("bulk-reason").value.trim() };
    if (action === "assign") payload.assignee = $("bulk-assignee").value.trim();
    if (action === "close" && $("bulk-resolution").value) payload.resolution = $("bulk-resolution").value;
    return payload;
  }

  function wire(picked, onDone, onClear) {
    $("bulk-action").addEventListener("change", renderChoices);
    $("bulk-clear").addEventListener("click", () => {
      lastResult = null;
      onClear();
    });
    $("bulk-apply").addEventListener("click", async () => {
      const ids = picked().slice(0, MAX_IDS);
      const payload = body(ids);
      if (!payload.reason) {
        lastResult = { ok: 0, failed: [], error: t("bulk.need_reason") };
        showResult();
        $("bulk-reason").focus();
        return;
      }
      if (payload.action === "assign" && !payload.assignee) {
        lastResult = { ok: 0, failed: [], error: t("bulk.need_assignee") };
        showResult();
        return;
      }
      $("bulk-apply").disabled = true;
      try {
        const answer = await request("/api/v1/incidents/bulk", { method: "POST", body: payload });
        const results = answer.results || [];
        const failed = results.filter((item) => !item.ok);
        lastResult = { ok: results.length - failed.length, failed };
        $("bulk-reason").value = "";
        onDone(results.filter((item) => item.ok).map((item) => item.id));
      } catch (error) {
        const field = error.problem?.errors?.[0];
        lastResult = { ok: 0, failed: [], error: t("action.failed", {
          detail: field ? `${field.field}: ${field.message}` : error.message }) };
      } finally {
        $("bulk-apply").disabled = false;
      }
      showResult();
    });
  }

  function enable(on) {
    enabled = on;
    if (!on) lastResult = null;
  }

  window.Bulk = { wire, update, enable };
})();
