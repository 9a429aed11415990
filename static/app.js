/* Lianying's own behaviour for the desk pages (admin, dealer and rep). The Content-Security-Policy
   forbids inline scripts, so handlers live here: a button marked data-print prints the page.
   Without this script (JavaScript off) such buttons would do nothing, so app.css hides them until
   the "js" class below is on the page. */
document.documentElement.classList.add("js");
document.addEventListener("click", function (event) {
  var target = event.target;
  var button = target && target.closest ? target.closest("[data-print]") : null;
  if (button) {
    event.preventDefault();
    window.print();
  }
});
