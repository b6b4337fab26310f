// Print buttons: <button data-print>. Kept out of templates for the CSP.
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});
