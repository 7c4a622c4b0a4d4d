// Tiny dependency-free line charts on <canvas> (works offline). One LineChart per canvas;
// setSeries() redraws and records the number of points in canvas.dataset.points.
"use strict";

class LineChart {
  constructor(canvas, opts) {
    this.canvas = canvas;
    this.opts = Object.assign({ yMin: null, yMax: null, digits: 2 }, opts || {});
    this.series = [];
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  // series: [{xs: [...], ys: [...], color: "#hex", width: 2, dots: false}]
  setSeries(series) {
    this.series = series;
    this.canvas.dataset.points = String(series.length ? series[0].xs.length : 0);
    this.draw();
  }

  draw() {
    const c = this.canvas, dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth, h = c.clientHeight;
    if (!w || !h) return;
    if (c.width !== Math.round(w * dpr)) c.width = Math.round(w * dpr);
    if (c.height !== Math.round(h * dpr)) c.height = Math.round(h * dpr);
    const g = c.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const pad = { l: 44, r: 8, t: 8, b: 20 };
    const xs = [], ys = [];
    for (const s of this.series) { xs.push(...s.xs); ys.push(...s.ys.filter(Number.isFinite)); }
    g.font = "11px system-ui, sans-serif";
    g.fillStyle = "#8a93a0";
    if (!xs.length) { g.fillText("no data yet", w / 2 - 30, h / 2); return; }
    let x0 = Math.min(...xs), x1 = Math.max(...xs);
    let y0 = this.opts.yMin ?? Math.min(...ys), y1 = this.opts.yMax ?? Math.max(...ys);
    if (this.opts.yMin === null && y0 > 0) y0 = 0;
    if (x1 === x0) x1 = x0 + 1;
    if (y1 === y0) y1 = y0 + 1;
    const px = (x) => pad.l + (x - x0) / (x1 - x0) * (w - pad.l - pad.r);
    const py = (y) => h - pad.b - (y - y0) / (y1 - y0) * (h - pad.t - pad.b);
    g.strokeStyle = "#30363d"; g.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {          // grid + y labels
      const y = y0 + (y1 - y0) * i / 4, yy = Math.round(py(y)) + 0.5;
      g.beginPath(); g.moveTo(pad.l, yy); g.lineTo(w - pad.r, yy); g.stroke();
      g.fillText(y.toFixed(this.opts.digits), 2, yy + 4);
    }
    g.fillText(String(Math.round(x0)), pad.l, h - 5);
    const xl = String(Math.round(x1));
    g.fillText(xl, w - pad.r - g.measureText(xl).width, h - 5);
    for (const s of this.series) {
      g.strokeStyle = s.color; g.fillStyle = s.color; g.lineWidth = s.width || 2;
      g.beginPath();
      let pen = false;
      s.xs.forEach((x, i) => {
        const y = s.ys[i];
        if (!Number.isFinite(y)) { pen = false; return; }
        if (pen) g.lineTo(px(x), py(y)); else g.moveTo(px(x), py(y));
        pen = true;
      });
      g.stroke();
      if (s.dots && s.xs.length < 400) s.xs.forEach((x, i) => {
        if (Number.isFinite(s.ys[i])) g.fillRect(px(x) - 1.5, py(s.ys[i]) - 1.5, 3, 3);
      });
    }
  }
}

// Rolling mean of ys over the last `n` values.
function rolling(ys, n) {
  const out = []; let sum = 0; const q = [];
  for (const y of ys) {
    q.push(y); sum += y;
    if (q.length > n) sum -= q.shift();
    out.push(sum / q.length);
  }
  return out;
}
