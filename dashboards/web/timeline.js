// The incident's story in sentences (who did what, when), built from its audit trail: state changes with
// their reasons, comments with their text, tasks, observables and edits. The raw trail stays available,
// folded, for auditors.
(() => {
  "use strict";

  const { t, formatTime } = window.I18n;
  const { $, el, table } = window.Canh;
  const SYSTEM_ACTOR = "canhgac";
  const STATES = ["new", "acknowledged", "investigating", "contained", "resolved", "closed"];
  const SEVERITIES = ["low", "medium", "high", "critical"];
  const FIELDS = ["title", "description", "severity", "assignee", "system", "categories", "attack_tactics",
    "attack_techniques", "handling_result", "recommendations", "breach", "detected", "state", "resolution",
    "alert_ids", "alert_count", "last_seen", "rules", "entities", "tags"];

  const first = (list) => (Array.isArray(list) ? list[0] : undefined);
  const actorName = (actor) => (actor === SYSTEM_ACTOR ? t("timeline.system") : actor);

  function value(key, raw) {
    if (raw === undefined || raw === null || raw === "") return "—";
    if (key === "state" && STATES.includes(raw)) return t(`state.${raw}`);
    if (key === "severity" && SEVERITIES.includes(raw)) return t(`severity.${raw}`);
    if (key === "resolution") return t(`resolution.${raw}`);
    if (Array.isArray(raw)) return raw.length > 5 ? t("timeline.items", { n: raw.length }) : raw.map((v) => value("", v)).join(", ");
    if (typeof raw === "object") return t("timeline.changed");
    if (typeof raw === "string" && raw.length > 80) return `${raw.slice(0, 77)}…`;
    return String(raw);
  }

  const fieldName = (key) => (FIELDS.includes(key) ? t(`field.${key}`) : key);

  function changes(before, after) {
    const keys = [...new Set([...Object.keys(before || {}), ...Object.keys(after || {})])];
    return keys.filter((key) => !["history", "comments", "tasks", "observables", "updated", "version"].includes(key))
      .map((key) => `${fieldName(key)}: ${value(key, before?.[key])} → ${value(key, after?.[key])}`).join("; ");
  }

  // One audit entry as { text, quote }: the quote is people's own words (a reason, a comment).
  function sentence(entry) {
    const before = entry.before || {};
    const after = entry.after || {};
    const actor = actorName(entry.actor);
    const [action, detail] = entry.action.split(":");
    const change = first(after.history);
    switch (action) {
      case "create":
        return { text: t("timeline.create", { actor, state: value("state", after.state || "new") }) };
      case "transition": {
        let text = t("timeline.transition", { actor, from: value("state", before.state), to: value("state", after.state || detail) });
        if (after.resolution) text += ` ${t("timeline.resolution", { resolution: value("resolution", after.resolution) })}`;
        return { text, quote: change?.reason };
      }
      case "reopen":
        return { text: t("timeline.reopen", { actor, to: value("state", after.state) }), quote: change?.reason };
      case "comment":
        return { text: t("timeline.comment", { actor }), quote: first(after.comments)?.text };
      case "task_add":
        return { text: t("timeline.task_add", { actor, title: first(after.tasks)?.title ?? "—" }) };
      case "task_change": {
        const old = first(before.tasks) || {};
        const now = first(after.tasks) || {};
        const parts = [];
        if (old.state !== now.state) parts.push(`${t("task.state")}: ${t(`task.state.${old.state}`)} → ${t(`task.state.${now.state}`)}`);
        if (old.title !== now.title) parts.push(`${t("task.title")}: ${old.title ?? "—"} → ${now.title ?? "—"}`);
        if (old.assignee !== now.assignee) parts.push(`${t("detail.assignee")}: ${old.assignee ?? "—"} → ${now.assignee ?? "—"}`);
        return { text: t("timeline.task_change", { actor, title: now.title ?? old.title ?? "—", changes: parts.join("; ") || "—" }) };
      }
      case "observable_add":
      case "observable_remove": {
        const item = first(action === "observable_add" ? after.observables : before.observables) || {};
        return { text: t(`timeline.${action}`, { actor, type: item.type ? t(`observable.type.${item.type}`) : "—", value: item.value ?? "—" }) };
      }
      case "raise_severity":
        return { text: t("timeline.raise_severity", { actor, from: value("severity", before.severity), to: value("severity", after.severity) }) };
      case "filing":
        return { text: t("timeline.filing", { actor, kind: t(`clock.${detail}`) }) };
      case "update":
        return { text: t("timeline.update", { actor, changes: changes(before, after) || "—" }) };
      default:
        return { text: t("timeline.other", { actor, action: entry.action, changes: changes(before, after) || "—" }) };
    }
  }

  // Without an audit trail (an older store), the state changes and comments still tell the story.
  function fromIncident(d) {
    const entries = (d.history || []).map((h) => ({ at: h.at, actor: h.actor,
      action: h.from_state ? "transition" : "create", before: { state: h.from_state },
      after: { state: h.to_state, resolution: h.resolution, history: [h] } }));
    for (const c of d.comments || []) entries.push({ at: c.at, actor: c.author, action: "comment", after: { comments: [c] } });
    return entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  }

  function render(d) {
    const audit = d.audit || [];
    const entries = audit.length ? audit : fromIncident(d);
    const list = $("detail-timeline");
    if (entries.length === 0) {
      list.replaceChildren(el("li", t("detail.no_audit"), "muted"));
    } else {
      list.replaceChildren(...entries.map((entry) => {
        const { text, quote } = sentence(entry);
        const item = el("li", null, `timeline-${entry.action.split(":")[0]}`);
        item.append(el("time", formatTime(entry.at), "muted small"), el("p", text));
        if (quote) item.append(el("blockquote", quote));
        return item;
      }));
    }
    const raw = $("detail-audit");
    raw.replaceChildren(audit.length ? table([t("audit.at"), t("audit.actor"), t("audit.action"), t("audit.change")],
      audit.map((e) => [formatTime(e.at), e.actor, e.action, changes(e.before, e.after) || "—"])) : el("p", t("detail.no_audit"), "muted"));
  }

  window.Timeline = { render };
})();
