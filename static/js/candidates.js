// Staff pages of the candidates app. Kept out of templates for the CSP: behaviour hangs
// on classes and data attributes; every page works without it.
(function () {
  "use strict";

  // Forms that ask before doing something hard to undo: <form data-confirm="…">.
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    });
  });

  // New registration: the existing-candidate select or the new-candidate fields.
  const choices = document.querySelectorAll("input[name='candidate_choice']");
  if (choices.length) {
    const toggle = () => {
      const checked = document.querySelector("input[name='candidate_choice']:checked");
      const isNew = checked !== null && checked.value === "new";
      document.querySelectorAll(".candidate-existing").forEach((el) => { el.hidden = isNew; });
      document.querySelectorAll(".candidate-new").forEach((el) => { el.hidden = !isNew; });
    };
    choices.forEach((input) => input.addEventListener("change", toggle));
    toggle();
  }

  // Tutor selects offer only the tutors of the chosen company (options carry data-company).
  document.querySelectorAll("select.company-select").forEach((company) => {
    const tutor = company.form && company.form.querySelector("select.tutor-select");
    if (!tutor) {
      return;
    }
    const filter = () => {
      Array.from(tutor.options).forEach((option) => {
        if (!option.value) {
          return;
        }
        const match = !company.value || option.dataset.company === company.value;
        option.hidden = !match;
        option.disabled = !match;
        if (!match && option.selected) {
          tutor.value = "";
        }
      });
    };
    company.addEventListener("change", filter);
    filter();
  });
})();
