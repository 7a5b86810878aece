// The incident list: pages from the server (X-Next-Cursor), the total (X-Total-Count), sorting by column, and
// a list that keeps its place: polling only updates rows already shown and counts the ones that are new to
// this list; they appear when the analyst asks ("N sự cố mới"). Data is written with textContent only.
(() => {
  "use strict";

  const { t, formatTime } = window.I18n;
  const { $, el, setText, request } = window.Canh;
  const PAGE_SIZE = 100;
  const POLL_MS = 4000;
  const SEVERITIES = ["low", "medium", "high", "critical"];
  const CELLS = ["pick", "id", "title", "severity", "state", "agency", "system", "source", "alerts", "first", "last"];
  // The first click on a column sorts these newest/highest first, the others A→Z.
  const DESCENDING_FIRST = new Set(["severity", "alert_count", "first_seen", "last_seen"]);

  const state = {
    ctx: null, // { rows, isSelected, onSelect, onListed, handleError, showBanner, canWrite }
    items: [],
    byId: new Map(),
    known: new Set(), // every id this list has shown since it was last loaded
    unseen: new Set(), // ids the polls found that this list does not show
    total: null,
    totalAtLoad: null,
    next: null,
    loaded: false,
    generation: 0,
    timer: null,
    picked: new Set(),
  };

  const localTitle = (incident) => (I18n.language === "en" && incident.title_en) || incident.title;
  const localName = (vi, en) => (I18n.language === "en" ? en || vi : vi || en);

  function path(cursor, limit = PAGE_SIZE) {
    const params = Filters.apiQuery();
    params.set("limit", String(limit));
    if (cursor) params.set("cursor", cursor);
    return `/api/v1/incidents?${params}`;
  }

  async function fetchPage(cursor) {
    const { body, headers } = await request(path(cursor), { withHeaders: true });
    const total = headers.get("X-Total-Count");
    return { items: body, next: headers.get("X-Next-Cursor"), total: total === null ? null : Number(total) };
  }

  // --- loading ---------------------------------------------------------------------------------

  async function reload() {
    clearTimeout(state.timer);
    if (!state.ctx) return;
    const generation = ++state.generation;
    try {
      const page = await fetchPage(null);
      if (generation !== state.generation) return; // the filters changed meanwhile; a newer request runs
      state.items = page.items;
      state.byId = new Map(page.items.map((incident) => [incident.id, incident]));
      state.known = new Set(state.byId.keys());
      state.unseen.clear();
      state.next = page.next;
      state.total = page.total;
      state.totalAtLoad = page.total;
      state.loaded = true;
      for (const id of [...state.picked]) if (!state.byId.has(id)) state.picked.delete(id);
      state.ctx.showBanner(null);
      render();
      state.ctx.onListed(page.items);
    } catch (error) {
      if (generation !== state.generation || !state.ctx.handleError(error)) return;
    }
    schedule();
  }

  async function loadMore() {
    if (!state.next) return;
    const generation = state.generation;
    const button = $("list-more");
    button.disabled = true;
    try {
      const page = await fetchPage(state.next);
      if (generation !== state.generation) return;
      for (const incident of page.items) {
        if (state.byId.has(incident.id)) continue; // moved between pages while we read them
        state.items.push(incident);
        state.byId.set(incident.id, incident);
        state.known.add(incident.id);
        state.unseen.delete(incident.id);
      }
      state.next = page.next;
      if (page.total !== null) state.total = page.total;
      render();
    } catch (error) {
      if (generation === state.generation) state.ctx.handleError(error);
    } finally {
      button.disabled = false;
    }
  }

  function schedule() {
    clearTimeout(state.timer);
    state.timer = setTimeout(poll, POLL_MS);
  }

  async function poll() {
    if (!state.ctx) return;
    if ($("incidents-view").hidden) return schedule(); // another view is open: nothing to keep fresh
    const generation = state.generation;
    try {
      const page = await fetchPage(null);
      if (generation !== state.generation) return;
      for (const incident of page.items) {
        if (state.byId.has(incident.id)) {
          state.byId.set(incident.id, incident);
          state.items[state.items.findIndex((shown) => shown.id === incident.id)] = incident;
        } else if (!state.known.has(incident.id)) {
          state.unseen.add(incident.id);
        }
      }
      if (page.total !== null) state.total = page.total;
      state.ctx.showBanner(null);
      render();
      state.ctx.onListed(page.items);
    } catch (error) {
      if (generation !== state.generation || !state.ctx.handleError(error)) return;
    }
    schedule();
  }

  // How many incidents the list does not show yet: those the last poll saw, or more when the total grew further.
  function freshCount() {
    const grown = state.total !== null && state.totalAtLoad !== null ? state.total - state.totalAtLoad : 0;
    return Math.max(state.unseen.size, grown);
  }

  // --- rows ------------------------------------------------------------------------------------

  function createRow(id) {
    const row = el("tr");
    row.dataset.id = id;
    row.tabIndex = 0;
    for (const name of CELLS) {
      const cell = el("td", null, `col-${name}`);
      if (name === "pick") {
        const box = el("input");
        box.type = "checkbox";
        box.className = "pick";
        cell.append(box);
      }
      if (name === "severity") cell.append(el("span", null, "badge"));
      if (name === "title") cell.append(el("span", null, "title-text"), el("span", null, "rules-hint"));
      row.append(cell);
    }
    return row;
  }

  function updateRow(row, incident) {
    const cells = Object.fromEntries(CELLS.map((name, index) => [name, row.children[index]]));
    const box = cells.pick.firstChild;
    box.checked = state.picked.has(incident.id);
    box.setAttribute("aria-label", t("bulk.pick", { id: incident.id }));
    setText(cells.id, incident.id);
    setText(cells.title.firstChild, localTitle(incident));
    const rules = incident.rules || [];
    cells.title.lastChild.textContent = rules.length > 1 ? t("incidents.rules_hint", { count: rules.length }) : "";
    const badge = cells.severity.firstChild;
    setText(badge, t(`severity.${incident.severity}`));
    const badgeClass = `badge severity-${SEVERITIES.includes(incident.severity) ? incident.severity : "unknown"}`;
    if (badge.className !== badgeClass) badge.className = badgeClass;
    setText(cells.state, t(`state.${incident.state}`));
    setText(cells.agency, localName(incident.agency_name_vi, incident.agency_name_en));
    setText(cells.system, incident.system_name || incident.system);
    setText(cells.source, incident.entities?.["source.ip"] || incident.entities?.["user.name"]);
    setText(cells.alerts, incident.alert_count);
    setText(cells.first, formatTime(incident.first_seen));
    setText(cells.last, formatTime(incident.last_seen));
    for (const name of CELLS) if (name !== "pick") cells[name].dataset.label = t(headerKey(name));
    const overdue = incident.overdue || [];
    row.classList.toggle("overdue-row", overdue.length > 0);
    row.title = overdue.length ? `${t("clock.status.overdue")}: ${overdue.map((kind) => t(`clock.${kind}`)).join(", ")}` : "";
    markSelected(row);
  }

  function headerKey(name) {
    return { first: "col.first_seen", last: "col.last_seen" }[name] || `col.${name}`;
  }

  function markSelected(row) {
    const selected = state.ctx.isSelected(row.dataset.id);
    row.classList.toggle("selected", selected);
    row.setAttribute("aria-selected", String(selected));
  }

  function renderRows() {
    const body = $("incident-rows");
    const rows = state.ctx.rows;
    let previous = null;
    for (const incident of state.items) {
      let row = rows.get(incident.id);
      if (!row) {
        row = createRow(incident.id);
        rows.set(incident.id, row);
      }
      updateRow(row, incident);
      const expected = previous ? previous.nextSibling : body.firstChild;
      if (expected !== row) body.insertBefore(row, expected); // moves only rows whose position changed
      previous = row;
    }
    for (const [id, row] of rows) {
      if (!state.byId.has(id)) {
        row.remove();
        rows.delete(id);
      }
    }
  }

  function renderHeader() {
    const sort = Filters.sort;
    for (const header of document.querySelectorAll("#incident-table th[data-sort]")) {
      const field = header.dataset.sort;
      header.setAttribute("aria-sort", sort === field ? "ascending" : sort === `-${field}` ? "descending" : "none");
    }
    const all = $("pick-all");
    const shown = state.items.length;
    const picked = state.items.filter((incident) => state.picked.has(incident.id)).length;
    all.checked = shown > 0 && picked === shown;
    all.indeterminate = picked > 0 && picked < shown;
    all.setAttribute("aria-label", t("bulk.pick_all"));
  }

  function render() {
    renderRows();
    renderHeader();
    const shown = state.items.length;
    const empty = shown === 0;
    $("loading").hidden = state.loaded;
    $("incident-table").hidden = empty;
    $("incident-table").classList.toggle("can-write", state.ctx.canWrite());
    const emptyText = $("empty");
    emptyText.hidden = !empty || !state.loaded;
    setText(emptyText, t(Filters.isFiltered() ? "incidents.empty_filtered" : "incidents.empty"));
    setText($("count"), state.total === null ? t("incidents.count", { count: shown })
      : t("incidents.shown_of", { shown, total: state.total }));
    const more = $("list-more");
    more.hidden = !state.next;
    const left = state.total === null ? PAGE_SIZE : Math.min(PAGE_SIZE, Math.max(state.total - shown, 0));
    setText(more, t("incidents.more", { count: left || PAGE_SIZE }));
    const count = freshCount();
    $("list-fresh").hidden = count === 0;
    setText($("list-fresh"), t("incidents.fresh", { count }));
    setText($("updated"), t("incidents.updated", { time: formatTime(new Date()) }));
    Bulk.update([...state.picked]);
  }

  // --- wiring ----------------------------------------------------------------------------------

  function sortBy(field) {
    const current = Filters.sort;
    const next = current === `-${field}` ? field : current === field ? `-${field}`
      : DESCENDING_FIRST.has(field) ? `-${field}` : field;
    Filters.setSort(next);
  }

  function pick(id, on) {
    if (on) state.picked.add(id);
    else state.picked.delete(id);
  }

  function wire() {
    const rows = $("incident-rows");
    rows.addEventListener("click", (clicked) => {
      const box = clicked.target.closest("input.pick");
      const row = clicked.target.closest("tr[data-id]");
      if (!row) return;
      if (box) {
        pick(row.dataset.id, box.checked);
        renderHeader();
        Bulk.update([...state.picked]);
        return;
      }
      if (clicked.target.closest("td.col-pick")) return; // a near miss of the checkbox does not open the incident
      state.ctx.onSelect(row.dataset.id);
    });
    rows.addEventListener("keydown", (pressed) => {
      const row = pressed.target.closest("tr[data-id]");
      if (row && pressed.target === row && (pressed.key === "Enter" || pressed.key === " ")) {
        pressed.preventDefault();
        state.ctx.onSelect(row.dataset.id);
      }
    });
    $("pick-all").addEventListener("change", () => {
      const on = $("pick-all").checked;
      for (const incident of state.items) pick(incident.id, on);
      render();
    });
    for (const header of document.querySelectorAll("#incident-table th[data-sort] button")) {
      header.addEventListener("click", () => sortBy(header.parentElement.dataset.sort));
    }
    $("list-more").addEventListener("click", loadMore);
    $("list-fresh").addEventListener("click", () => {
      window.scrollTo({ top: 0 });
      reload();
    });
    Filters.wire(() => {
      state.picked.clear();
      state.loaded = false;
      render();
      reload();
    });
    Bulk.wire(() => [...state.picked], (done) => {
      for (const id of done) state.picked.delete(id);
      reload();
    }, () => {
      state.picked.clear();
      render();
    });
  }

  async function start(ctx, me, agenciesInTreeOrder) {
    state.ctx = ctx;
    const filters = Filters.load(me, agenciesInTreeOrder);
    reload();
    await filters;
  }

  function stop() {
    clearTimeout(state.timer);
    state.generation++;
    state.items = [];
    state.byId.clear();
    state.known.clear();
    state.unseen.clear();
    state.picked.clear();
    state.total = null;
    state.next = null;
    state.loaded = false;
    if (state.ctx) {
      for (const row of state.ctx.rows.values()) row.remove();
      state.ctx.rows.clear();
    }
    $("loading").hidden = false;
    $("incident-table").hidden = true;
    $("empty").hidden = true;
    $("list-more").hidden = true;
    $("list-fresh").hidden = true;
    Bulk.update([]);
  }

  function rerender() {
    Filters.render();
    if (state.loaded) render();
  }

  window.List = {
    start, stop, wire, reload, rerender,
    refresh: () => {
      clearTimeout(state.timer);
      poll();
    },
    markAll: () => state.ctx && [...state.ctx.rows.values()].forEach(markSelected),
    get items() {
      return state.items;
    },
  };
})();
