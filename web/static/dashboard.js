// Handover dashboard: keyboard shortcuts and live campaign progress.
// Loaded from 'self' with defer; the pages work without it.
(function () {
  "use strict";

  function typing(e) {
    var t = e.target;
    return t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
  }

  // j/k move through the rows of the page's first list, Enter opens the
  // selected row's first link.
  var selected = -1;
  function rows() { return document.querySelectorAll("table.list tr[data-row]"); }
  function select(i) {
    var list = rows();
    if (!list.length) return;
    i = Math.max(0, Math.min(list.length - 1, i));
    if (selected >= 0 && list[selected]) list[selected].classList.remove("selected");
    selected = i;
    list[i].classList.add("selected");
    list[i].scrollIntoView({ block: "nearest" });
  }

  var dialog = document.getElementById("shortcuts");
  function showShortcuts() { if (dialog && !dialog.open) dialog.showModal(); }
  var button = document.getElementById("show-shortcuts");
  if (button) button.addEventListener("click", showShortcuts);

  document.addEventListener("keydown", function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey || typing(e)) return;
    switch (e.key) {
      case "?": showShortcuts(); e.preventDefault(); break;
      case "/":
        var s = document.getElementById("search");
        if (s) { s.focus(); s.select(); e.preventDefault(); }
        break;
      case "j": select(selected + 1); break;
      case "k": select(selected - 1); break;
      case "Enter":
        var list = rows();
        if (selected >= 0 && list[selected]) {
          var a = list[selected].querySelector("a[href]");
          if (a) { a.click(); e.preventDefault(); }
        }
        break;
    }
  });

  // Live progress: poll the campaign's progress while it is sending and
  // reload once it changes state, so the buttons match it.
  var live = document.getElementById("live");
  if (live && live.dataset.live === "true") {
    var url = live.dataset.progressUrl;
    var timer = setInterval(function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (p) {
          document.getElementById("progress").value = p.percent;
          document.getElementById("progress-done").textContent = p.done;
          document.getElementById("progress-total").textContent = p.total;
          document.getElementById("progress-percent").textContent = p.percent;
          if (p.status !== live.dataset.status) { clearInterval(timer); location.replace(location.pathname); }
        })
        .catch(function () { clearInterval(timer); });
    }, 2000);
  }
})();
