export { UserError, check } from './errors.ts';
export { Rng } from './rng.ts';
export { ProgressBar, formatSeconds } from './progress.ts';
export { editDistance, unknownNameMessage } from './suggest.ts';
export { writeFileAtomic } from './fs.ts';
export { type Bar, type BarSeries, type Series, barChartSvg, groupedBarChartSvg, lineChartSvg } from './plot.ts';
export { escapeHtml, htmlPage, htmlTable, pngDataUri } from './html.ts';
export { decodePng, encodePng } from './png.ts';
export { areaResizeRgb, tileRgb, upscaleRgb } from './image.ts';
