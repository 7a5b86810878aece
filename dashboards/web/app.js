// The incident page. Everything shown comes from the API, which already limits each caller to their
// agency subtree; the page never filters for access. Data is written with textContent only: titles,
// entities and log lines are attacker-controlled.
(() => {
  "use strict";

  const { t } = window.I18n;
  const { KEY_STORAGE, $, el, setText, api } = window.Canh;
  const VIEWS = ["overview", "incidents", "posture", "discover"];
  const WRITERS = ["soc_admin", "soc_analyst", "agency_responder"];

  const app = {
    me: null,
    agencies: [],
    rows: new Map(), // incident id -> <tr>, reused between refreshes so nothing flickers (list.js fills it)
    banner: null, // [key, vars] of the error shown above the list
    view: VIEWS.includes(new URLSearchParams(location.search).get("view"))
      ? new URLSearchParams(location.search).get("view") : "incidents",
  };

  function localName(vi, en) {
    return I18n.language === "en" ? en : vi;
  }

  // A message element whose text follows the language, or hidden when key is null.
  function showMessage(element, key, vars) {
    element.hidden = !key;
    if (key && !vars) element.dataset.i18n = key;
    else delete element.dataset.i18n;
    if (key) element.textContent = t(key, vars);
  }

  // --- sign-in -------------------------------------------------------------------------------

  function showSignIn(messageKey, vars) {
    List.stop();
    Overview.hide();
    app.me = null;
    $("overview-view").hidden = true;
    $("incidents-view").hidden = true;
    $("posture-view").hidden = true;
    $("discover-view").hidden = true;
    $("views").hidden = true;
    $("session").hidden = true;
    $("signin-view").hidden = false;
    showMessage($("signin-message"), messageKey, vars);
    $("api-key").focus();
  }

  function signOut(messageKey) {
    sessionStorage.removeItem(KEY_STORAGE);
    List.stop();
    showBanner(null);
    Detail.reset();
    showSignIn(messageKey);
  }

  async function start(fromForm) {
    try {
      app.me = await api("/api/v1/me");
      app.agencies = await api("/api/v1/agencies");
    } catch (error) {
      if (error.status === 401) signOut(fromForm ? "signin.invalid" : "signin.expired");
      else if (error.status === 0) showSignIn("signin.unreachable");
      else showSignIn("error.generic", { detail: error.message });
      return;
    }
    $("signin-view").hidden = true;
    $("views").hidden = false;
    $("session").hidden = false;
    Bulk.enable(WRITERS.includes(app.me.role));
    showView(app.view);
    renderSession();
    Detail.openFromHash();
    List.start(listContext(), app.me, agenciesInTreeOrder());
  }

  function renderSession() {
    const me = app.me;
    setText($("who-name"), me.name);
    setText($("who-role"), t(`role.${me.role}`));
    const agency = me.agency ? localName(me.agency_name_vi, me.agency_name_en) : t("session.all_agencies");
    setText($("who-agency"), agency);
  }

  // --- filters -------------------------------------------------------------------------------

  function option(value, label) {
    const element = el("option", label);
    element.value = value;
    return element;
  }

  function agenciesInTreeOrder() {
    const byId = new Map(app.agencies.map((a) => [a.id, a]));
    const children = new Map();
    const roots = [];
    for (const agency of app.agencies) {
      // Under its successor when the caller sees it, else under its old parent (an old unit's own key).
      const up = [agency.merged_into, agency.parent].find((id) => id && byId.has(id));
      if (up) {
        if (!children.has(up)) children.set(up, []);
        children.get(up).push(agency);
      } else {
        roots.push(agency);
      }
    }
    const ordered = [];
    const visit = (agency, depth) => {
      ordered.push([agency, depth]);
      for (const child of children.get(agency.id) || []) visit(child, depth + 1);
    };
    for (const root of roots) visit(root, 0);
    return ordered;
  }

  // --- the incident list (list.js, filters.js, bulk.js) ---------------------------------------

  function listContext() {
    return {
      rows: app.rows, isSelected: (id) => id === Detail.selectedId, onSelect: (id) => Detail.select(id),
      onListed: (incidents) => Detail.refreshIfChanged(incidents), handleError, showBanner,
      canWrite: () => WRITERS.includes(app.me?.role),
    };
  }

  // After a change made on this page: the rows shown are updated in place, none moves.
  function refresh() {
    List.refresh();
  }

  // Returns false when the caller was signed out.
  function handleError(error) {
    if (error.status === 401) {
      signOut("signin.expired");
      return false;
    }
    if (error.status === 0) showBanner("error.unreachable");
    else if (error.status === 503) showBanner("error.unavailable");
    else if (error.status === 403) showBanner("error.forbidden");
    else showBanner("error.generic", { detail: error.message });
    return true;
  }

  function showBanner(key, vars) {
    showMessage($("banner"), key, vars);
    app.banner = key ? [key, vars] : null;
  }

  function markSelected(row) {
    const selected = row.dataset.id === Detail.selectedId;
    row.classList.toggle("selected", selected);
    row.setAttribute("aria-selected", String(selected));
  }

  // --- views ---------------------------------------------------------------------------------

  function postureOptions() {
    const options = [option("", app.me?.sees_all ? t("filter.agency_all") : t("posture.my_scope"))];
    for (const [agency, depth] of agenciesInTreeOrder()) {
      options.push(option(agency.id, "\u00a0\u00a0".repeat(depth) + window.Canh.agencyName(agency)));
    }
    return options;
  }

  // Into the incident list with these filters (from the overview).
  function openList(filters) {
    Filters.set(filters);
    showView("incidents");
  }

  function showView(view) {
    app.view = view;
    Filters.setParams({ view: view === "incidents" ? "" : view });
    $("overview-view").hidden = view !== "overview";
    $("view-overview").setAttribute("aria-pressed", String(view === "overview"));
    if (view === "overview" && app.me) Overview.show(postureOptions);
    else Overview.hide();
    $("incidents-view").hidden = view !== "incidents";
    $("posture-view").hidden = view !== "posture";
    $("discover-view").hidden = view !== "discover";
    $("view-discover").setAttribute("aria-pressed", String(view === "discover"));
    $("view-incidents").setAttribute("aria-pressed", String(view === "incidents"));
    $("view-posture").setAttribute("aria-pressed", String(view === "posture"));
    if (view === "posture" && app.me) Posture.show(app.me, postureOptions);
    if (view === "discover" && app.me) Discover.show(postureOptions);
  }

  // --- language ------------------------------------------------------------------------------

  function rerender() {
    I18n.apply();
    if (!app.me) return;
    renderSession();
    List.rerender();
    if (app.view === "overview") Overview.rerender(postureOptions);
    if (app.banner) showBanner(...app.banner);
    Detail.render();
    if (app.view === "discover") Discover.rerender();
    if (app.view === "posture") Posture.show(app.me, postureOptions);
  }

  // --- wiring --------------------------------------------------------------------------------

  function wire() {
    $("signin-form").addEventListener("submit", (submitted) => {
      submitted.preventDefault();
      const key = $("api-key").value.trim();
      if (!key) return;
      sessionStorage.setItem(KEY_STORAGE, key);
      $("api-key").value = "";
      start(true);
    });
    $("sign-out").addEventListener("click", () => signOut(null));
    $("lang-switch").addEventListener("click", () => {
      I18n.setLanguage(I18n.language === "vi" ? "en" : "vi");
      $("lang-switch").lang = I18n.language === "vi" ? "en" : "vi";
      rerender();
    });
    List.wire();
    Overview.wire(openList, (id) => {
      showView("incidents");
      Detail.select(id);
    });
    $("view-overview").addEventListener("click", () => showView("overview"));
    $("detail-close").addEventListener("click", () => Detail.close());
    $("view-incidents").addEventListener("click", () => showView("incidents"));
    $("view-posture").addEventListener("click", () => showView("posture"));
    Detail.init({ me: () => app.me, onError: handleError, onChanged: () => refresh(),
      onSelection: () => { for (const row of app.rows.values()) markSelected(row); },
      discover: (filters) => { showView("discover"); Discover.open(filters); } });
    Discover.wire({ me: () => app.me, onError: handleError });
    $("view-discover").addEventListener("click", () => showView("discover"));
    Actions.wire(Reports.open);
    Reports.wire();
    Posture.wire(Reports.open);
    window.addEventListener("hashchange", () => Detail.openFromHash());
  }

  async function main() {
    wire();
    try {
      await I18n.load();
    } catch (_) {
      // without the dictionaries the Vietnamese text already in the page stays; keys show elsewhere
    }
    $("lang-switch").lang = I18n.language === "vi" ? "en" : "vi";
    if (sessionStorage.getItem(KEY_STORAGE)) start(false);
    else showSignIn(null);
  }

  main();
})();
