// The incident's tasks (công việc) and observables (đối tượng quan sát), editable by those who may write.
// Every write sends If-Match with the version shown; a 412 means someone else changed the incident first.
(() => {
  "use strict";

  const { t } = window.I18n;
  const { $, el, request } = window.Canh;
  const WRITERS = ["soc_admin", "soc_analyst", "agency_responder"];
  const TASK_STATES = ["todo", "doing", "done", "cancelled"];
  const OBSERVABLE_TYPES = ["ip", "domain", "url", "hash", "user", "email", "file", "other"];
  let current = null; // { getDetail, onChanged }

  function option(value, label) {
    const element = el("option", label);
    element.value = value;
    return element;
  }

  function say(key, vars) {
    const box = $("work-message");
    box.hidden = !key;
    if (key) box.textContent = t(key, vars);
  }

  async function write(path, method, body) {
    const detail = current.getDetail();
    if (!detail) return false;
    try {
      await request(`/api/v1/incidents/${encodeURIComponent(detail.id)}${path}`, { method, body, version: detail.version });
      say("action.done");
      current.onChanged();
      return true;
    } catch (error) {
      if (error.status === 412) {
        say("action.stale");
        current.onChanged();
      } else if (error.status === 403) {
        say("error.forbidden");
      } else {
        const field = error.problem?.errors?.[0];
        say("action.failed", { detail: field ? `${field.field}: ${field.message}` : error.message });
      }
      return false;
    }
  }

  function taskRow(task, writable) {
    const item = el("li", null, `task task-${task.state}`);
    item.dataset.task = task.id;
    const title = el("span", task.title, "task-title");
    const who = el("span", task.assignee ? t("task.assignee_of", { name: task.assignee }) : "", "muted small");
    if (!writable) {
      item.append(el("span", t(`task.state.${task.state}`), "pill-dark"), title, who);
      return item;
    }
    const select = el("select", null, "task-state");
    select.setAttribute("aria-label", t("task.state"));
    select.append(...TASK_STATES.map((value) => option(value, t(`task.state.${value}`))));
    select.value = task.state;
    select.addEventListener("change", () => write(`/tasks/${encodeURIComponent(task.id)}`, "PATCH", { state: select.value }));
    const edit = el("button", t("task.edit"), "link task-edit");
    edit.type = "button";
    edit.addEventListener("click", () => {
      const input = el("input", null, "task-title-input");
      input.type = "text";
      input.maxLength = 300;
      input.value = task.title;
      input.setAttribute("aria-label", t("task.title"));
      const save = el("button", t("task.save"), "task-save");
      save.type = "button";
      save.addEventListener("click", () => {
        const text = input.value.trim();
        if (text && text !== task.title) write(`/tasks/${encodeURIComponent(task.id)}`, "PATCH", { title: text });
      });
      title.replaceWith(input);
      edit.replaceWith(save);
      input.focus();
    });
    item.append(select, title, who, edit);
    return item;
  }

  function observableRow(observable, writable) {
    const item = el("li", null, "observable");
    item.dataset.observable = observable.id;
    item.append(el("span", t(`observable.type.${observable.type}`), "tag"), el("span", observable.value, "mono"));
    if (observable.note) item.append(el("span", observable.note, "muted small"));
    if (writable) {
      const remove = el("button", t("observable.remove"), "link observable-remove");
      remove.type = "button";
      remove.addEventListener("click", () => write(`/observables/${encodeURIComponent(observable.id)}`, "DELETE"));
      item.append(remove);
    }
    return item;
  }

  function render(detail, me) {
    const writable = WRITERS.includes(me?.role) && !detail.merged_into;
    if (current?.shownId !== detail.id) say(null);
    current.shownId = detail.id;
    $("task-form").hidden = !writable;
    $("observable-form").hidden = !writable;
    const tasks = $("detail-tasks");
    tasks.replaceChildren(...(detail.tasks || []).map((task) => taskRow(task, writable)));
    if (!detail.tasks?.length) tasks.append(el("li", t("task.none"), "muted"));
    const observables = $("detail-observables");
    observables.replaceChildren(...(detail.observables || []).map((o) => observableRow(o, writable)));
    if (!detail.observables?.length) observables.append(el("li", t("observable.none"), "muted"));
    for (const [id, key] of [["task-title", "task.title"], ["task-assignee", "detail.assignee"],
      ["observable-value", "observable.value"], ["observable-note", "observable.note"]]) $(id).placeholder = t(key);
    const typeSelect = $("observable-type");
    const chosen = typeSelect.value || "ip";
    typeSelect.replaceChildren(...OBSERVABLE_TYPES.map((value) => option(value, t(`observable.type.${value}`))));
    typeSelect.value = chosen;
  }

  function wire(getDetail, onChanged) {
    current = { getDetail, onChanged, shownId: null };
    $("task-form").addEventListener("submit", async (submitted) => {
      submitted.preventDefault();
      const title = $("task-title").value.trim();
      if (!title) return;
      const assignee = $("task-assignee").value.trim();
      if (await write("/tasks", "POST", { title, assignee: assignee || null })) {
        $("task-title").value = "";
        $("task-assignee").value = "";
      }
    });
    $("observable-form").addEventListener("submit", async (submitted) => {
      submitted.preventDefault();
      const value = $("observable-value").value.trim();
      if (!value) return;
      const body = { type: $("observable-type").value, value, note: $("observable-note").value.trim() };
      if (await write("/observables", "POST", body)) {
        $("observable-value").value = "";
        $("observable-note").value = "";
      }
    });
  }

  window.Tasks = { render, wire };
})();
