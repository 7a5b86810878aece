// Shared by the page's scripts: element helpers and the API client. Data is written with textContent
// only: titles, entities and log lines are attacker-controlled.
(() => {
  "use strict";

  const KEY_STORAGE = "canhgac.apiKey";
  const $ = (id) => document.getElementById(id);

  function el(tag, text, className) {
    const element = document.createElement(tag);
    if (text !== undefined && text !== null) element.textContent = String(text);
    if (className) element.className = className;
    return element;
  }

  function setText(element, text) {
    const value = text === undefined || text === null || text === "" ? "—" : String(text);
    if (element.textContent !== value) element.textContent = value;
  }

  class ApiError extends Error {
    constructor(status, problem) {
      super(problem?.detail || problem?.title || `HTTP ${status}`);
      this.status = status; // 0: the server could not be reached
      this.problem = problem;
    }
  }

  // GET by default; writes pass { method, body, version } and send If-Match with the version last read;
  // { withHeaders: true } answers { body, headers } (paging reads X-Total-Count and X-Next-Cursor).
  async function request(path, options = {}) {
    const headers = { "X-API-Key": sessionStorage.getItem(KEY_STORAGE) || "", Accept: options.accept || "application/json" };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    if (options.version) headers["If-Match"] = `"${options.version}"`;
    let response;
    try {
      response = await fetch(path, {
        method: options.method || "GET", headers, cache: "no-store",
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
    } catch (_) {
      throw new ApiError(0, null);
    }
    if (response.ok && options.withHeaders) return { body: await response.json(), headers: response.headers };
    if (response.ok) return options.accept === "text/html" ? response.text() : response.json();
    let problem = null;
    try {
      problem = await response.json();
    } catch (_) {
      // not a problem document (e.g. a proxy's error page)
    }
    throw new ApiError(response.status, problem);
  }

  const api = (path) => request(path);

  // A compact table; a cell is text (shown as is, "—" when missing) or a ready DOM node.
  function table(headers, rows) {
    const element = el("table", null, "compact");
    const head = el("tr");
    for (const header of headers) head.append(el("th", header));
    element.append(el("thead"), el("tbody"));
    element.tHead.append(head);
    for (const cells of rows) {
      const row = el("tr");
      for (const cell of cells) {
        if (cell instanceof Node) {
          const td = el("td");
          td.append(cell);
          row.append(td);
        } else {
          row.append(el("td", cell ?? "—"));
        }
      }
      element.tBodies[0].append(row);
    }
    return element;
  }

  // An agency's name in the page's language; a unit dissolved in the 2025 reforms says what it became part of.
  function agencyName(agency) {
    const english = window.I18n.language === "en";
    const name = english ? agency.name_en || agency.name_vi : agency.name_vi || agency.name_en;
    if (agency.current !== false) return name;
    const successor = english ? agency.successor_name_en || agency.successor_name_vi
      : agency.successor_name_vi || agency.successor_name_en;
    return successor ? window.I18n.t("agency.dissolved_into", { name, successor })
      : window.I18n.t("agency.dissolved", { name });
  }

  window.Canh = { KEY_STORAGE, $, el, setText, table, ApiError, api, request, agencyName };
})();
