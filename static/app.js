/* Lianying's own behaviour for the desk pages (admin and dealer). The Content-Security-Policy
   forbids inline scripts, so handlers live here: a button marked data-print prints the page. */
document.addEventListener("click", function (event) {
  var target = event.target;
  var button = target && target.closest ? target.closest("[data-print]") : null;
  if (button) {
    event.preventDefault();
    window.print();
  }
});
