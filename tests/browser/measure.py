"""What a person sees, measured in the drawn page (Chromium): every visible chart's plot areas and labels (from
the SVG Vega drew), and the layout faults a narrow window showed (cut buttons, clipped chips, overlapping
images and captions, sideways scrolling). Each function returns a list of problems ("" = none) for one view."""

from __future__ import annotations

MIN_PLOT_HEIGHT = 150  # px: below this a curve reads as a flat strip
MIN_CELL = 14  # px: a grid of cells (a 3x3 kernel, a pooled map) reads by its cells, each at least this big

# One entry per visible chart: the height and width of each plot area (the background of each view cell:
# a single view's frame, each panel of a concat or facet), the labels drawn outside the SVG's box, the legend
# labels (to see whether two runs read alike), the axis labels (for tick formats and the confusion matrix).
CHARTS = """() => [...document.querySelectorAll('[data-testid=stMain] [data-testid=stVegaLiteChart]')]
  .filter(c => c.checkVisibility()).map(c => {
    const svg = c.querySelector('svg');
    const key = (c.closest('[class*="st-key-"]')?.className.match(/st-key-([^ ]+)/) || [])[1] || '';
    if (!svg) return {key, svg: false};
    const r = svg.getBoundingClientRect();
    const cells = [...svg.querySelectorAll('path.background')].filter(p => {
        const g = p.parentElement && p.parentElement.parentElement;
        return g && g.matches('g.mark-group.role-frame, g.mark-group.role-scope') && !g.matches('.pathgroup')
          && !p.closest('.role-legend, .role-axis, .role-title'); })
      .map(p => p.getBoundingClientRect()).filter(b => b.width > 0 && b.height > 0)
      .map(b => [Math.round(b.width), Math.round(b.height)]);
    const texts = sel => [...svg.querySelectorAll(sel)].filter(t => t.textContent);
    const outside = texts('.role-axis-label text, .role-axis-title text, .role-legend-label text, .role-legend-title text, .role-title text')
      .filter(t => { const b = t.getBoundingClientRect();
        return b.width > 0 && (b.left < r.left - 4 || b.top < r.top - 4 || b.right > r.right + 4 || b.bottom > r.bottom + 4); })
      .map(t => t.textContent);
    const title = (svg.querySelector('.role-title-text text') || {}).textContent || '';
    // a grid of equal cells (a kernel, a pooled map, a confusion matrix): only rect and text marks, every rect
    // the same height; it reads by the size of its cells, not by the height of its plot
    const marks = [...svg.querySelectorAll('g.role-mark')].filter(g => !g.closest('.role-legend, .role-axis, .role-title'));
    const rects = [...svg.querySelectorAll('g.mark-rect.role-mark path')].filter(p => !p.closest('.role-legend'))
      .map(p => p.getBoundingClientRect()).filter(b => b.width > 0 && b.height > 0);
    const heights = rects.map(b => b.height);
    const grid = rects.length > 1 && marks.every(g => g.matches('.mark-rect, .mark-text'))
      && Math.max(...heights) - Math.min(...heights) <= 1.5;
    const cell = grid ? Math.round(Math.min(...heights, ...rects.map(b => b.width))) : 0;
    return {key, svg: true, title, grid, cell, width: Math.round(r.width), height: Math.round(r.height), cells, outside,
            legend: texts('.role-legend-label text').map(t => t.textContent),
            axis: [...svg.querySelectorAll('.role-axis')].map(a => [...a.querySelectorAll('.role-axis-label text')].map(t => t.textContent))};
  })"""

# Layout faults: buttons whose label is cut ("Do..."), multiselect chips clipped by their box, images (with
# their captions) that overlap one another or a metric, table or chart, and how far the page scrolls sideways.
LAYOUT = """() => {
  const main = document.querySelector('[data-testid=stMain]');
  const vis = e => e.checkVisibility() && e.getBoundingClientRect().width > 0;
  const cut = [...main.querySelectorAll('button')].filter(vis).filter(b => {
      const t = b.querySelector('[data-testid=stMarkdownContainer] p, p') || b;
      return t.scrollWidth > t.clientWidth + 1; }).map(b => b.innerText.trim());
  const chips = [];
  for (const box of main.querySelectorAll('[data-testid=stMultiSelect] [data-baseweb=select] > div')) {
    const br = box.getBoundingClientRect();
    for (const tag of box.querySelectorAll('[data-baseweb=tag]')) {
      const r = tag.getBoundingClientRect(); const label = tag.querySelector('span') || tag;
      if (r.right > br.right + 1 || r.bottom > br.bottom + 1 || r.top < br.top - 1 || label.scrollWidth > label.clientWidth + 1)
        chips.push(tag.innerText.trim()); } }
  const boxes = [...main.querySelectorAll('[data-testid=stImage], [data-testid=stMetric], [data-testid=stDataFrame], [data-testid=stVegaLiteChart], [data-testid=stCaptionContainer]')]
    .filter(vis).map(e => ({e, r: e.getBoundingClientRect(), id: e.getAttribute('data-testid')}));
  const overlaps = [];
  for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) {
    const a = boxes[i], b = boxes[j];
    if (a.e.contains(b.e) || b.e.contains(a.e)) continue;
    if (a.id !== 'stImage' && b.id !== 'stImage') continue;  // images (and their captions) on anything
    const w = Math.min(a.r.right, b.r.right) - Math.max(a.r.left, b.r.left);
    const h = Math.min(a.r.bottom, b.r.bottom) - Math.max(a.r.top, b.r.top);
    if (w > 2 && h > 2) overlaps.push(a.id + '/' + b.id + ' ' + (a.e.innerText || '').trim().slice(0, 30) + ' | ' + (b.e.innerText || '').trim().slice(0, 30));
  }
  return {cut, chips, overlaps: overlaps.slice(0, 5),
          sideways: Math.max(main.scrollWidth - main.clientWidth, document.scrollingElement.scrollWidth - window.innerWidth)};
}"""

# the numbers of a tick format gone wrong: a one-epoch curve's axis read "1.000000", a constant lr "0.100000"
TRAILING_ZEROS = r"\.\d*000$"


def chart_problems(view: str, charts: list[dict]) -> list[str]:
    """What is wrong with the charts of one view: a flat plot, labels outside the figure, legend labels that
    read alike, tick labels with trailing zeros, a confusion matrix that skips class labels."""
    import re

    out = []
    for c in charts:
        name = f"{view} [{c.get('key') or c.get('title') or 'chart'}]"
        if not c["svg"]:
            out.append(f"{name}: not drawn as SVG")
            continue
        if not c["cells"]:
            out.append(f"{name}: no plot area found")
        low = [h for _, h in c["cells"] if h < MIN_PLOT_HEIGHT]
        if low and c.get("grid"):  # a small grid (a 3x3 kernel) is fine when each cell is readable
            if c["cell"] < MIN_CELL:
                out.append(f"{name}: a {min(low)} px grid of {c['cell']} px cells (< {MIN_CELL})")
        elif low:
            out.append(f"{name}: plot area {min(low)} px tall (< {MIN_PLOT_HEIGHT})")
        if c["outside"]:
            out.append(f"{name}: labels outside the figure: {c['outside'][:3]}")
        legend = [t for t in c["legend"] if t]
        if len(set(legend)) < len(legend):
            out.append(f"{name}: legend labels read alike: {sorted(t for t in set(legend) if legend.count(t) > 1)}")
        zeros = [t for axis in c["axis"] for t in axis if re.search(TRAILING_ZEROS, t)]
        if zeros:
            out.append(f"{name}: tick labels with trailing zeros: {zeros[:3]}")
        if "onfusion" in c["title"]:
            short = [len(axis) for axis in c["axis"] if 0 < len(axis) < 26]
            if short:
                out.append(f"{name}: a confusion-matrix axis labels {short[0]} of 26 classes")
    return out


def layout_problems(view: str, layout: dict, width: int) -> list[str]:
    """What is wrong with the layout of one view (see LAYOUT)."""
    out = []
    if layout["cut"]:
        out.append(f"{view}: button labels cut: {layout['cut'][:3]}")
    if layout["chips"]:
        out.append(f"{view}: chips clipped: {layout['chips'][:3]}")
    if layout["overlaps"]:
        out.append(f"{view}: overlapping: {layout['overlaps'][:3]}")
    if layout["sideways"] > 0:
        out.append(f"{view}: wider than a {width} px window by {layout['sideways']} px")
    return out
