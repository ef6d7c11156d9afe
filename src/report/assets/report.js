"use strict";
// Search and outlet filter for the story and cluster lists. The page is complete without this script;
// it only hides what does not match. It reads text with textContent and writes only
// textContent, classes and the hidden property, never markup.
(function () {
  var form = document.getElementById("filters");
  if (!form) return;
  var query = document.getElementById("filter-word");
  var outlet = document.getElementById("filter-outlet");
  var status = document.getElementById("filter-status");
  var items = Array.prototype.map.call(document.querySelectorAll("[data-item]"), function (el) {
    var rows = el.matches("tr[data-row]") ? [el] : el.querySelectorAll("tr[data-row]");
    return {
      el: el,
      story: el.getAttribute("data-item") === "story",
      rows: Array.prototype.map.call(rows, function (row) {
        return {
          el: row,
          kept: row.hasAttribute("data-kept"),
          source: row.getAttribute("data-source") || "",
          text: row.textContent.toLowerCase()
        };
      })
    };
  });
  var totals = { story: 0, cluster: 0 };
  items.forEach(function (item) { totals[item.story ? "story" : "cluster"] += 1; });
  function apply() {
    var words = query.value.toLowerCase().split(/\s+/).filter(Boolean);
    var source = outlet.value;
    var filtering = words.length > 0 || source !== "";
    var shown = { story: 0, cluster: 0 };
    items.forEach(function (item) {
      var any = false;
      item.rows.forEach(function (row) {
        var match = (source === "" || row.source === source) &&
          words.every(function (w) { return row.text.indexOf(w) !== -1; });
        any = any || match;
        // The kept copy stays visible, dimmed, as the context of matching members.
        var isItem = row.el === item.el;
        row.el.classList.toggle("hidden", !isItem && filtering && !match && !row.kept);
        row.el.classList.toggle("dim", !isItem && filtering && !match && row.kept);
      });
      item.el.classList.toggle("hidden", !any);
      if (any) shown[item.story ? "story" : "cluster"] += 1;
    });
    var parts = [];
    [["story", "stories"], ["cluster", "clusters"]].forEach(function (kind) {
      if (totals[kind[0]] === 0) return;
      parts.push(filtering
        ? shown[kind[0]] + " of " + totals[kind[0]] + " " + kind[1]
        : totals[kind[0]] + " " + kind[1]);
    });
    status.textContent = parts.join(", ") + (filtering ? " match" : "");
  }
  form.addEventListener("submit", function (event) { event.preventDefault(); });
  query.addEventListener("input", apply);
  outlet.addEventListener("change", apply);
  form.hidden = false;
  apply();
})();
