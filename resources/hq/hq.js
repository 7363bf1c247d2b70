// Vitrine HQ dashboard: the only script, no dependencies. Asks before destructive actions.
document.addEventListener("submit", function (ev) {
  var button = ev.submitter;
  if (button && button.classList.contains("danger") &&
      !window.confirm("The store's uploads will be refused until it is reinstated. Continue?")) {
    ev.preventDefault();
  }
});
