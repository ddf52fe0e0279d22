// REPORT.html behaviour: draw the plots, toggle runtimes and models, sort tables. No network.
"use strict";
(function () {
  const figures = JSON.parse(document.getElementById("figures").textContent);
  const hidden = { runtime: new Set(), model: new Set() };
  const config = { responsive: true, displaylogo: false, displayModeBar: false };

  function isHidden(trace) {
    const meta = trace.meta || {};
    return hidden.runtime.has(meta.runtime) || hidden.model.has(meta.model);
  }

  function draw() {
    document.querySelectorAll(".panel[data-plot]").forEach(function (div) {
      const figure = figures[div.dataset.plot][Number(div.dataset.panel)];
      Plotly.newPlot(div, figure.data, figure.layout, config);
    });
  }

  function applyToggles() {
    document.querySelectorAll(".panel[data-plot]").forEach(function (div) {
      if (!div.data) return;
      const visible = div.data.map(function (trace) { return isHidden(trace) ? false : true; });
      Plotly.restyle(div, { visible: visible });
    });
  }

  function bindToggles() {
    document.querySelectorAll(".toggles input[type=checkbox]").forEach(function (box) {
      box.addEventListener("change", function () {
        const set = hidden[box.dataset.kind];
        if (box.checked) set.delete(box.value); else set.add(box.value);
        applyToggles();
      });
    });
  }

  function cellKey(cell) {
    if (cell.dataset.sort !== undefined) return Number(cell.dataset.sort);
    return cell.textContent.trim();
  }

  function compare(a, b) {
    const aMissing = a === "–" || a === "", bMissing = b === "–" || b === "";
    if (aMissing || bMissing) return aMissing - bMissing;  // missing values sort last either way
    if (typeof a === "number" && typeof b === "number") return a - b;
    return String(a).localeCompare(String(b), undefined, { numeric: true });
  }

  function sortBy(th) {
    const table = th.closest("table");
    const column = Array.prototype.indexOf.call(th.parentNode.children, th);
    const ascending = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    rows.sort(function (r1, r2) {
      const a = cellKey(r1.cells[column]), b = cellKey(r2.cells[column]);
      const missing = (a === "–") - (b === "–");
      if (missing) return missing;
      return ascending ? compare(a, b) : compare(b, a);
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }

  function bindTables() {
    document.querySelectorAll("table.sortable th").forEach(function (th) {
      th.tabIndex = 0;
      th.title = "Sort by this column";
      th.addEventListener("click", function () { sortBy(th); });
      th.addEventListener("keydown", function (e) { if (e.key === "Enter") sortBy(th); });
    });
  }

  bindTables();
  if (typeof Plotly !== "undefined") { draw(); bindToggles(); }
})();
