// Languages: the dictionaries live in i18n.json (Vietnamese first, English second); the choice is
// remembered in localStorage. Times are always shown in Vietnam's time zone.
(() => {
  "use strict";

  const LANG_STORAGE = "canhgac.lang";
  const LANGUAGES = ["vi", "en"];
  const TIME_ZONE = "Asia/Ho_Chi_Minh";
  let dictionaries = { vi: {}, en: {} };
  let language = "vi";
  const formatters = new Map();

  function remembered() {
    try {
      return localStorage.getItem(LANG_STORAGE);
    } catch (_) {
      return null; // storage disabled: fall back to Vietnamese
    }
  }

  async function load() {
    const response = await fetch("assets/i18n.json", { cache: "no-cache" });
    if (!response.ok) throw new Error(`i18n.json: HTTP ${response.status}`);
    dictionaries = await response.json();
    const saved = remembered();
    language = LANGUAGES.includes(saved) ? saved : "vi";
    apply();
  }

  function t(key, vars) {
    const text = dictionaries[language]?.[key] ?? dictionaries.vi?.[key] ?? key;
    if (!vars) return text;
    return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
  }

  function apply() {
    document.documentElement.lang = language;
    document.title = t("page.title");
    for (const element of document.querySelectorAll("[data-i18n]")) {
      element.textContent = t(element.dataset.i18n);
    }
    for (const element of document.querySelectorAll("[data-i18n-label]")) {
      element.setAttribute("aria-label", t(element.dataset.i18nLabel));
    }
    for (const element of document.querySelectorAll("[data-i18n-placeholder]")) {
      element.placeholder = t(element.dataset.i18nPlaceholder);
    }
  }

  function setLanguage(next) {
    if (!LANGUAGES.includes(next)) return;
    language = next;
    try {
      localStorage.setItem(LANG_STORAGE, next);
    } catch (_) {
      // not remembered, still switched
    }
    apply();
  }

  function formatter() {
    let cached = formatters.get(language);
    if (!cached) {
      cached = new Intl.DateTimeFormat(language === "en" ? "en-GB" : "vi-VN", {
        timeZone: TIME_ZONE, year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
      });
      formatters.set(language, cached);
    }
    return cached;
  }

  // "22/11/2026 15:04:05 (GMT+7)". Asia/Ho_Chi_Minh has been UTC+7 without daylight saving since 1975.
  function formatTime(value) {
    if (value === null || value === undefined || value === "") return "—";
    const date = value instanceof Date ? value : new Date(value);
    if (Number.isNaN(date.getTime())) return String(value);
    const parts = {};
    for (const part of formatter().formatToParts(date)) parts[part.type] = part.value;
    return `${parts.day}/${parts.month}/${parts.year} ${parts.hour}:${parts.minute}:${parts.second} (GMT+7)`;
  }

  window.I18n = {
    load,
    t,
    apply,
    setLanguage,
    formatTime,
    get language() {
      return language;
    },
  };
})();
