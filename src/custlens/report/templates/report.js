// custlens report: render the charts from their JSON specs and make the tables sortable,
// filterable and downloadable. Data are read with textContent / JSON.parse and written with
// textContent / DOM methods only (never innerHTML); nothing is fetched.
(function () {
  "use strict";
  var body = document.body;

  function renderCharts() {
    var specs = document.querySelectorAll('script[type="application/json"][data-chart]');
    var jobs = [];
    var rendered = 0;
    var failed = 0;
    specs.forEach(function (el) {
      var target = document.getElementById(el.getAttribute("data-chart"));
      if (!target) { return; }
      var job;
      try {
        var spec = JSON.parse(el.textContent);
        job = window.vegaEmbed(target, spec, { renderer: "svg", actions: false })
          .then(function () { rendered += 1; target.setAttribute("data-rendered", "1"); });
      } catch (err) {
        job = Promise.reject(err);
      }
      jobs.push(job.catch(function (err) {
        failed += 1;
        target.textContent = "This chart could not be drawn: " + (err && err.message);
        console.error(err);
      }));
    });
    Promise.all(jobs).then(function () {
      body.setAttribute("data-charts-specified", String(specs.length));
      body.setAttribute("data-charts-rendered", String(rendered));
      body.setAttribute("data-charts-failed", String(failed));
      body.setAttribute("data-charts-done", "1");
    });
  }

  function cellKey(td) {
    var raw = td.getAttribute("data-sort");
    if (raw !== null && raw !== "") { return { n: Number(raw) }; }
    return { s: td.textContent.trim().toLowerCase() };
  }

  function compare(a, b) {
    if (a.n !== undefined && b.n !== undefined) { return a.n - b.n; }
    if (a.n !== undefined) { return -1; }
    if (b.n !== undefined) { return 1; }
    return a.s < b.s ? -1 : a.s > b.s ? 1 : 0;
  }

  function csvField(text) {
    return /[",\n\r]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function setupTable(block) {
    var table = block.querySelector("table.data");
    var tbody = table.tBodies[0];
    var headers = table.querySelectorAll("thead th");
    var filter = block.querySelector("input.filter");
    var count = block.querySelector(".count");
    var rows = Array.prototype.slice.call(tbody.rows);

    function showCount() {
      var shown = rows.filter(function (r) { return !r.hidden; }).length;
      var noun = rows.length === 1 ? " row" : " rows";
      count.textContent = shown === rows.length ? rows.length + noun : shown + " of " + rows.length + noun;
    }

    headers.forEach(function (th, index) {
      th.querySelector("button.sort").addEventListener("click", function () {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var keyed = rows.map(function (r, i) { return { row: r, key: cellKey(r.cells[index]), i: i }; });
        keyed.sort(function (a, b) {
          var c = compare(a.key, b.key);
          return (ascending ? c : -c) || a.i - b.i;
        });
        rows = keyed.map(function (k) { return k.row; });
        rows.forEach(function (r) { tbody.appendChild(r); });
      });
    });

    filter.addEventListener("input", function () {
      var q = filter.value.trim().toLowerCase();
      rows.forEach(function (r) { r.hidden = q !== "" && r.textContent.toLowerCase().indexOf(q) < 0; });
      showCount();
    });

    block.querySelector("button.csv").addEventListener("click", function () {
      var lines = [Array.prototype.map.call(headers, function (th) { return csvField(th.textContent.trim()); }).join(",")];
      rows.forEach(function (r) {
        if (r.hidden) { return; }
        lines.push(Array.prototype.map.call(r.cells, function (td) { return csvField(td.textContent.trim()); }).join(","));
      });
      var blob = new Blob([lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" });
      var a = document.createElement("a");
      a.href = URL.createObjectURL(blob);
      a.download = (table.getAttribute("data-name") || "table") + ".csv";
      document.body.appendChild(a);
      a.click();
      setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 0);
    });
    showCount();
  }

  function trackToc() {
    var links = document.querySelectorAll(".toc a");
    if (!("IntersectionObserver" in window)) { return; }
    var byId = {};
    links.forEach(function (a) { byId[a.getAttribute("href").slice(1)] = a; });
    var observer = new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (e.isIntersecting && byId[e.target.id]) {
          links.forEach(function (a) { a.classList.remove("active"); });
          byId[e.target.id].classList.add("active");
        }
      });
    }, { rootMargin: "0px 0px -70% 0px" });
    document.querySelectorAll("section.section").forEach(function (s) { observer.observe(s); });
  }

  document.querySelectorAll(".table-block").forEach(setupTable);
  trackToc();
  renderCharts();
})();
