// A Chart.js plugin that shades fault windows behind the datasets, with the fault kind written at the
// top of each box wide enough to hold it. With `yAxisWidth` it also fixes the width of the y axis
// so that stacked charts share one x scale, and `markers` draws dashed red lines at the times of
// violations (the first one labelled). It is kept as JavaScript source so the very same code is
// inlined into index.html and evaluated in Node for the PNGs; compiled TypeScript would carry
// transpiler helpers into the page.
import type { Plugin } from "chart.js";

export const FAULT_WINDOWS_PLUGIN_JS = `{
  id: "faultWindows",
  beforeInit: function (chart, _args, opts) {
    var scales = chart.config.options && chart.config.options.scales;
    if (opts && opts.yAxisWidth && scales && scales.y) {
      scales.y.afterFit = function (scale) { scale.width = opts.yAxisWidth; };
    }
  },
  beforeDatasetsDraw: function (chart, _args, opts) {
    var x = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
    if (!x || !area || !opts || !opts.windows) return;
    ctx.save();
    ctx.font = "10px sans-serif";
    ctx.textBaseline = "top";
    for (var i = 0; i < opts.windows.length; i++) {
      var w = opts.windows[i];
      var x0 = Math.max(area.left, x.getPixelForValue(w.start));
      var x1 = Math.min(area.right, x.getPixelForValue(w.end));
      if (!(x1 > x0)) x1 = x0 + 1;
      if (x0 >= area.right) continue;
      ctx.fillStyle = w.color;
      ctx.fillRect(x0, area.top, x1 - x0, area.bottom - area.top);
      if (x1 - x0 > ctx.measureText(w.label).width + 4) {
        ctx.fillStyle = "rgba(60, 60, 60, 0.75)";
        ctx.fillText(w.label, x0 + 2, area.top + 2 + (i % 3) * 11);
      }
    }
    var marks = opts.markers || [];
    ctx.strokeStyle = "rgba(207, 34, 46, 0.9)";
    ctx.fillStyle = "rgba(207, 34, 46, 0.9)";
    ctx.setLineDash([4, 3]);
    for (var j = 0; j < marks.length; j++) {
      var mx = x.getPixelForValue(marks[j].at);
      if (mx < area.left || mx > area.right) continue;
      ctx.beginPath();
      ctx.moveTo(mx, area.top);
      ctx.lineTo(mx, area.bottom);
      ctx.stroke();
      if (j === 0) ctx.fillText(marks[j].label, Math.min(mx + 3, area.right - 60), area.bottom - 12);
    }
    ctx.restore();
  }
}`;

/** The plugin as an object, for Chart.js in Node. */
export function faultWindowsPlugin(): Plugin {
  return new Function(`return (${FAULT_WINDOWS_PLUGIN_JS});`)() as Plugin;
}
