// The audit report's "Print / save as PDF" button: shown only where scripts run (the CSP
// allows no inline handler), it opens the browser's print dialogue.
document.addEventListener("DOMContentLoaded", () => {
  for (const button of document.querySelectorAll("[data-print]")) {
    button.hidden = false;
    button.addEventListener("click", () => window.print());
  }
});
