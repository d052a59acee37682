// Small helps on the step forms (the server checks the same again): a dispatch to
// another department than routing suggests needs a reason; a form is sent once (a second
// click while the first is on its way would take the step twice, e.g. two 催办).
(function () {
  'use strict';
  function watch(root) {
    root.querySelectorAll('select[data-suggested]').forEach(function (select) {
      if (select.dataset.watched) return;
      select.dataset.watched = '1';
      const form = select.form;
      const note = form.querySelector('textarea[name="note"]');
      const hint = form.querySelector('[data-override-hint]');
      function update() {
        const override = select.dataset.suggested !== '' && select.value !== select.dataset.suggested;
        if (note) note.required = override;
        if (hint) hint.hidden = !override;
      }
      select.addEventListener('change', update);
      update();
    });
  }
  document.addEventListener('submit', function (event) {
    const form = event.target;
    if (!form.classList || !form.classList.contains('step-form')) return;
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = '1';
    form.querySelectorAll('button[type="submit"]').forEach(function (b) { b.setAttribute('aria-disabled', 'true'); });
  });
  document.addEventListener('DOMContentLoaded', function () { watch(document); });
  document.addEventListener('htmx:afterSwap', function (event) { watch(event.target); });
})();
