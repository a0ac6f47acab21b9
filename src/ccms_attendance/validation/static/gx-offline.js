// GX Data Docs offline (ccms_attendance.validation.gx_offline): the pages' onclick="f('x')" handlers
// were rewritten to data-ccms-call / data-ccms-arg so that the Content-Security-Policy needs no
// inline code; this wires them to the same global functions.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-ccms-call]").forEach(function (element) {
    element.addEventListener("click", function () {
      var fn = window[element.getAttribute("data-ccms-call")];
      if (typeof fn === "function") {
        var arg = element.getAttribute("data-ccms-arg");
        arg === null ? fn() : fn(arg);
      }
    });
  });
});
