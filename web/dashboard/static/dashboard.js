// Handover dashboard: keyboard shortcuts, live campaign progress and
// live tickets (server-sent events).
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
      case "r": if (replyKey()) e.preventDefault(); break;
      case "e": if (resolveKey()) e.preventDefault(); break;
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
          // Every number on the page comes from the same counts.
          if (p.fields) document.querySelectorAll("[data-n]").forEach(function (el) {
            if (p.fields[el.dataset.n] !== undefined) el.textContent = p.fields[el.dataset.n];
          });
          var eta = document.getElementById("progress-eta-wrap");
          if (eta) {
            eta.hidden = p.eta_seconds === null;
            if (p.eta_seconds !== null) {
              var s = p.eta_seconds, pad = function (n) { return (n < 10 ? "0" : "") + n; };
              document.getElementById("progress-eta").textContent = Math.floor(s / 3600) + ":" + pad(Math.floor(s / 60) % 60) + ":" + pad(s % 60);
            }
          }
          if (p.status !== live.dataset.status) { clearInterval(timer); location.replace(location.pathname); }
        })
        .catch(function () { clearInterval(timer); });
    }, 2000);
  }

  // Tickets. r replies (the ticket's reply box, or the selected row's),
  // e resolves (the open ticket, or the selected row in the queue).
  var ticket = document.getElementById("ticket");
  var queue = document.getElementById("queue");
  function selectedRow() {
    var list = rows();
    return queue && selected >= 0 && list[selected] && list[selected].dataset.id ? list[selected] : null;
  }
  function replyKey() {
    var box = document.getElementById("reply-text");
    if (box) { box.focus(); return true; }
    var row = selectedRow();
    if (row) { location.href = "/tickets/" + row.dataset.id + "#reply"; return true; }
    return false;
  }
  function csrfToken() {
    var f = document.querySelector("input[name=csrf]");
    return f ? f.value : "";
  }
  function resolveKey() {
    var form = document.getElementById("resolve-form");
    if (form) { form.submit(); return true; }
    var row = selectedRow();
    if (!row) return false;
    var body = new URLSearchParams({ status: "resolved", csrf: csrfToken() });
    fetch("/tickets/" + row.dataset.id + "/update", { method: "POST", credentials: "same-origin", body: body, redirect: "manual" })
      .then(function () { refreshRow(row.dataset.id); });
    return true;
  }
  if (ticket && location.hash === "#reply") {
    var box = document.getElementById("reply-text");
    if (box) box.focus();
  }
  var canned = document.getElementById("canned");
  if (canned) canned.addEventListener("change", function () {
    var box = document.getElementById("reply-text");
    var opt = canned.options[canned.selectedIndex];
    if (box && opt && opt.dataset.body !== undefined && box.value.trim() === "") box.value = opt.dataset.body;
  });

  // The queue refreshes a row when its ticket changes: the server renders
  // it, or answers 204 when it left this view.
  function refreshRow(id) {
    var filter = queue.dataset.filter;
    fetch("/tickets/" + encodeURIComponent(id) + "/row" + (filter ? "?" + filter : ""), { credentials: "same-origin" })
      .then(function (r) {
        var counts = new URLSearchParams(r.headers.get("X-Ticket-Counts") || "");
        counts.forEach(function (n, name) {
          var el = document.getElementById("count-" + name);
          if (el) el.textContent = n;
        });
        return r.status === 200 ? r.text() : "";
      })
      .then(function (html) {
        var old = document.getElementById("row-" + id);
        if (!html) { if (old) old.remove(); return; }
        var tpl = document.createElement("template");
        tpl.innerHTML = html.trim();
        var row = tpl.content.firstElementChild;
        row.classList.add("fresh");
        if (old) { old.replaceWith(row); } else { queue.tBodies[0].prepend(row); }
        var empty = document.getElementById("queue-empty");
        if (empty) empty.remove();
      });
  }

  // The ticket page shows what others do to it and who else has it open.
  var viewers = {};
  function announce() {
    fetch("/tickets/" + ticket.dataset.id + "/viewing", { method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": ticket.dataset.csrf } });
  }
  function onTicketEvent(ev) {
    if (ev.ticket_id !== ticket.dataset.id || ev.actor === ticket.dataset.actor) return;
    if (ev.type === "viewing") {
      var first = !viewers[ev.actor];
      viewers[ev.actor] = ev.name || ev.actor;
      var names = Object.keys(viewers).map(function (k) { return viewers[k]; });
      var note = document.getElementById("collision");
      note.textContent = names.join(", ") + " " + note.dataset.text;
      note.hidden = false;
      if (first) announce();
      return;
    }
    document.getElementById("live-notice").hidden = false;
  }

  var liveOn = (queue && queue.dataset.live) || (ticket && ticket.dataset.live);
  if (liveOn && window.EventSource) {
    var source = new EventSource(liveOn);
    // Marks the page live (what tests and styles can wait for).
    source.addEventListener("open", function () { document.body.dataset.live = "on"; });
    source.addEventListener("ticket", function (m) {
      var ev;
      try { ev = JSON.parse(m.data); } catch (err) { return; }
      if (queue && ev.type !== "viewing") refreshRow(ev.ticket_id);
      if (ticket) onTicketEvent(ev);
    });
    // The queue's navigation counts follow every change.
    source.addEventListener("counts", function (m) {
      var counts;
      try { counts = JSON.parse(m.data); } catch (err) { return; }
      Object.keys(counts).forEach(function (name) {
        var el = document.getElementById("count-" + name);
        if (el) el.textContent = counts[name];
      });
    });
    if (ticket) {
      source.addEventListener("open", announce);
      setInterval(announce, 20000);
    }
  }
})();
