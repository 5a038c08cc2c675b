// The service page's chart: running and desired tasks, sampled whenever the health fragment arrives
// (at load, then at every live update) and drawn as two lines over the page's lifetime.
(function () {
  "use strict";
  var samples = [];
  var NS = "http://www.w3.org/2000/svg";

  function sample() {
    var health = document.querySelector("#health .health");
    if (!health) return;
    samples.push({
      t: Date.now(),
      running: Number(health.dataset.running),
      desired: Number(health.dataset.desired),
    });
    draw();
  }

  function line(svg, points, cls) {
    var el = document.createElementNS(NS, "polyline");
    el.setAttribute("points", points.join(" "));
    el.setAttribute("class", cls);
    svg.appendChild(el);
  }

  function draw() {
    var svg = document.getElementById("chart");
    if (!svg || samples.length === 0) return;
    while (svg.firstChild) svg.removeChild(svg.firstChild);
    var width = 600, height = 160, pad = 8;
    var now = Date.now(), start = samples[0].t, span = Math.max(now - start, 1);
    var top = 1;
    samples.forEach(function (s) { top = Math.max(top, s.running, s.desired); });
    var scale = Math.ceil(top * 1.25);
    function x(t) { return pad + ((t - start) / span) * (width - 2 * pad); }
    function y(v) { return height - pad - (v / scale) * (height - 2 * pad); }
    // Steps: a count holds until the next sample, and the last one holds until now.
    function steps(key) {
      var pts = [];
      samples.forEach(function (s, i) {
        if (i > 0) pts.push(x(s.t).toFixed(1) + "," + y(samples[i - 1][key]).toFixed(1));
        pts.push(x(s.t).toFixed(1) + "," + y(s[key]).toFixed(1));
      });
      pts.push(x(now).toFixed(1) + "," + y(samples[samples.length - 1][key]).toFixed(1));
      return pts;
    }
    line(svg, steps("desired"), "desired");
    line(svg, steps("running"), "running");
    [0, top].forEach(function (v) {
      var label = document.createElementNS(NS, "text");
      label.setAttribute("x", String(pad));
      label.setAttribute("y", String(y(v) - 4));
      label.textContent = String(v);
      svg.appendChild(label);
    });
    svg.dataset.samples = String(samples.length);
  }

  document.addEventListener("DOMContentLoaded", sample);
  document.addEventListener("htmx:sseMessage", function (event) {
    if (event.target && event.target.id === "health") sample();
  });
  setInterval(draw, 5000); // move "now" along while nothing changes
})();
