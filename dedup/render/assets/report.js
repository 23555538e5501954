// dedup HTML report: filters and pages through the documents embedded as JSON in #dedup-data.
// Scraped text is only ever inserted with createTextNode/textContent, never as HTML; invisible
// characters are shown as labels (the pattern and names come from dedup/render/text.py).
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("dedup-data").textContent);
  var T = data.texts;
  var INV = new RegExp(data.inv.re, "gu");
  var NAMES = data.inv.names;
  var PAGE = data.page;
  var TAGS = {r: "replace", d: "delete", i: "insert"};
  var form = {
    q: document.getElementById("f-q"),
    rule: document.getElementById("f-rule"),
    share: document.getElementById("f-share"),
    changed: document.getElementById("f-changed"),
    sort: document.getElementById("f-sort")
  };
  var list = document.getElementById("docs");
  var status = document.getElementById("status");
  var prev = document.getElementById("prev");
  var next = document.getElementById("next");
  var page = 0;
  var shown = [];

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function label(ch) {
    var cp = ch.codePointAt(0);
    return NAMES[cp] || "U+" + cp.toString(16).toUpperCase().padStart(4, "0");
  }

  // Append text to parent, invisible characters as labelled spans.
  function addText(parent, text) {
    var pos = 0, m;
    INV.lastIndex = 0;
    while ((m = INV.exec(text)) !== null) {
      if (m.index > pos) parent.appendChild(document.createTextNode(text.slice(pos, m.index)));
      var tag = el("span", "inv", label(m[0]));
      tag.title = "invisible character U+" + m[0].codePointAt(0).toString(16).toUpperCase().padStart(4, "0");
      parent.appendChild(tag);
      pos = m.index + m[0].length;
    }
    if (pos < text.length) parent.appendChild(document.createTextNode(text.slice(pos)));
  }

  // Text (as code points) with the ranges of the opcodes on one side marked with cls.
  function addMarked(parent, text, ops, second, cls) {
    var cps = Array.from(text);
    var pos = 0;
    ops.forEach(function (op) {
      var start = second ? op[3] : op[1], end = second ? op[4] : op[2];
      if (start > pos) addText(parent, cps.slice(pos, start).join(""));
      if (end > start) {
        var mark = el("mark", cls);
        mark.title = TAGS[op[0]];
        addText(mark, cps.slice(start, end).join(""));
        parent.appendChild(mark);
      }
      pos = Math.max(pos, end);
    });
    if (pos < cps.length) addText(parent, cps.slice(pos).join(""));
  }

  function pct(x) { return (100 * x).toFixed(1) + "%"; }
  function num(x) { return x.toLocaleString("en"); }

  function side(cls, caption, text, ops, second, markCls) {
    var box = el("div", "side " + cls);
    var cap = el("div", "cap");
    addText(cap, caption);
    box.appendChild(cap);
    var pre = el("pre");
    addMarked(pre, text, ops, second, markCls);
    box.appendChild(pre);
    return box;
  }

  function editView(e) {
    var box = el("div", "edit");
    var meta = [];
    if (e.line !== null) meta.push("line " + e.line);
    meta.push(e.op, e.rule);
    if (e.score !== null) meta.push("score " + e.score.toFixed(2));
    if (e.est !== null) meta.push("estimate " + e.est.toFixed(2));
    if (e.reason) meta.push(e.reason);
    if (e.cluster !== null) meta.push("cluster " + e.cluster);
    var head = el("div", "meta");
    addText(head, meta.join(" · "));
    box.appendChild(head);
    var pair = el("div", "pair");
    var left = T[e.a], right = T[e.b];
    var removal = e.op === "remove";
    var where = e.kept.map(function (k) { return T[k[0]] + " ¶" + k[1]; }).join(", ");
    pair.appendChild(side("old", removal ? "removed ¶" + e.para : "old", left, e.d, false, "del"));
    pair.appendChild(side("kept", removal ? "kept: " + where : "new", right, e.d, true, "ins"));
    box.appendChild(pair);
    return box;
  }

  function docView(d) {
    var art = el("article", "doc");
    var head = el("h3");
    var id = el("span", "id");
    addText(id, d.id);
    head.appendChild(id);
    head.appendChild(el("span", "stat", pct(d.share) + " removed · " + d.e.length + " edit(s) · " +
      num(d.in - d.out) + " of " + num(d.in) + " characters"));
    art.appendChild(head);
    if (!d.e.length) art.appendChild(el("p", "none", "unchanged"));
    d.e.forEach(function (e) { art.appendChild(editView(e)); });
    return art;
  }

  function filtered() {
    var q = form.q.value.trim().toLowerCase();
    var rule = form.rule.value;
    var min = parseFloat(form.share.value) / 100 || 0;
    var changedOnly = form.changed.checked;
    var out = data.docs.filter(function (d) {
      if (changedOnly && !d.e.length) return false;
      if (q && d.id.toLowerCase().indexOf(q) < 0) return false;
      if (min > 0 && d.share < min) return false;
      if (rule && !d.e.some(function (e) { return e.rule === rule; })) return false;
      return true;
    });
    if (form.sort.value === "share") {
      out.sort(function (a, b) { return b.share - a.share || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0); });
    }
    return out;
  }

  function render() {
    var pages = Math.max(1, Math.ceil(shown.length / PAGE));
    page = Math.min(Math.max(page, 0), pages - 1);
    list.textContent = "";
    shown.slice(page * PAGE, (page + 1) * PAGE).forEach(function (d) { list.appendChild(docView(d)); });
    status.textContent = num(shown.length) + " of " + num(data.docs.length) + " documents · page " +
      (page + 1) + " of " + pages;
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
  }

  function refilter() {
    shown = filtered();
    page = 0;
    render();
  }

  data.rules.forEach(function (r) {
    var opt = el("option", "", r);
    opt.value = r;
    form.rule.appendChild(opt);
  });
  Object.keys(form).forEach(function (k) {
    form[k].addEventListener("input", refilter);
    form[k].addEventListener("change", refilter);
  });
  prev.addEventListener("click", function () { page -= 1; render(); window.scrollTo(0, list.offsetTop); });
  next.addEventListener("click", function () { page += 1; render(); window.scrollTo(0, list.offsetTop); });
  Array.prototype.forEach.call(document.querySelectorAll("button.goto"), function (b) {
    b.addEventListener("click", function () {
      form.q.value = b.getAttribute("data-id");
      form.changed.checked = false;
      form.rule.value = "";
      form.share.value = "";
      refilter();
      list.scrollIntoView();
    });
  });
  document.getElementById("browser").hidden = false;
  refilter();
})();
