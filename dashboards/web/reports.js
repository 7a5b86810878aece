// Report drafts are printable HTML pages from the API. They need the API key, so the page fetches them
// and shows them in a sandboxed frame (no scripts) with a print button; the server escapes every value.
(() => {
  "use strict";

  const { $, request } = window.Canh;

  async function open(path) {
    const dialog = $("report-dialog");
    const frame = $("report-frame");
    $("report-message").hidden = true;
    try {
      frame.srcdoc = await request(path, { accept: "text/html" });
      if (!dialog.open) dialog.showModal();
    } catch (error) {
      $("report-message").hidden = false;
      $("report-message").textContent = window.I18n.t("action.failed", { detail: error.message });
      if (!dialog.open) dialog.showModal();
    }
  }

  function wire() {
    $("report-close").addEventListener("click", () => $("report-dialog").close());
    $("report-print").addEventListener("click", () => $("report-frame").contentWindow?.print());
  }

  window.Reports = { open, wire };
})();
