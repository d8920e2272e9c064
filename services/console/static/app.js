// The console's only script: small conveniences that the pages work without.
"use strict";
document.addEventListener("click", function (e) {
  var t = e.target.closest("[data-print]");
  if (t) { window.print(); return; }
  t = e.target.closest("[data-copy]");
  if (t) {
    var src = document.querySelector(t.getAttribute("data-copy"));
    if (!src) return;
    src.select();
    var done = function () { t.textContent = "Copied"; setTimeout(function () { t.textContent = "Copy"; }, 1500); };
    if (navigator.clipboard) { navigator.clipboard.writeText(src.value).then(done, function () {}); }
    else { document.execCommand("copy"); done(); }
  }
});
document.addEventListener("submit", function (e) {
  var msg = e.target.getAttribute("data-confirm");
  if (msg && !window.confirm(msg)) e.preventDefault();
});
document.addEventListener("change", function (e) {
  if (e.target.matches("select[data-autosubmit]")) e.target.form.submit();
});
