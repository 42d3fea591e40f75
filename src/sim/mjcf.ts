/**
 * A minimal MJCF (MuJoCo XML) writer: elements as tag + attributes + children, numbers printed
 * compactly. Scenes and robots are generated with it; no model files are read from disk.
 */

/** An attribute value: numbers and number lists print space-separated. */
export type AttrValue = string | number | readonly number[];

/** One XML element. */
export type Element = { tag: string; attrs: Record<string, AttrValue | undefined>; children: Element[] };

/** Builds an element; undefined attributes are left out. */
export function el(tag: string, attrs: Record<string, AttrValue | undefined> = {}, children: Element[] = []): Element {
  return { tag, attrs, children };
}

function num(x: number): string {
  const s = Number.isInteger(x) ? String(x) : x.toFixed(6).replace(/0+$/, '');
  return s === '-0' ? '0' : s;
}

function attr(v: AttrValue): string {
  if (typeof v === 'number') return num(v);
  if (typeof v === 'string') return v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return v.map(num).join(' ');
}

/** The element as indented XML. */
export function toXml(e: Element, indent = ''): string {
  const attrs = Object.entries(e.attrs)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => ` ${k}="${attr(v as AttrValue)}"`)
    .join('');
  if (e.children.length === 0) return `${indent}<${e.tag}${attrs}/>`;
  const inner = e.children.map((c) => toXml(c, indent + '  ')).join('\n');
  return `${indent}<${e.tag}${attrs}>\n${inner}\n${indent}</${e.tag}>`;
}

/** A colour as MJCF rgba. */
export type Rgba = readonly [number, number, number, number];

/** Named colours of the benchmark's objects (also used in instructions). */
export const COLORS: Readonly<Record<string, Rgba>> = Object.freeze({
  red: [0.85, 0.12, 0.1, 1],
  green: [0.15, 0.7, 0.2, 1],
  blue: [0.15, 0.3, 0.9, 1],
  yellow: [0.95, 0.8, 0.1, 1],
  purple: [0.55, 0.2, 0.75, 1],
  orange: [0.95, 0.5, 0.1, 1],
  white: [0.92, 0.92, 0.9, 1],
  wood: [0.62, 0.47, 0.3, 1],
  grey: [0.5, 0.5, 0.52, 1],
  dark: [0.2, 0.2, 0.22, 1],
  brown: [0.35, 0.22, 0.1, 1],
  terracotta: [0.78, 0.38, 0.22, 1],
  cream: [0.86, 0.82, 0.72, 1],
  teal: [0.1, 0.6, 0.6, 1],
  // colours only the pretraining task family uses (sim/pretrain-tasks.ts)
  pink: [0.95, 0.45, 0.7, 1],
  cyan: [0.2, 0.85, 0.95, 1],
  lime: [0.6, 0.95, 0.2, 1],
  navy: [0.1, 0.12, 0.4, 1],
  maroon: [0.45, 0.05, 0.12, 1],
  olive: [0.45, 0.45, 0.12, 1],
  silver: [0.75, 0.76, 0.8, 1],
  magenta: [0.85, 0.1, 0.75, 1],
});

/** `xyaxes` of a camera at `pos` looking at `target`, image up near `up` (MuJoCo cameras look along -z). */
export function lookAtXyAxes(pos: readonly number[], target: readonly number[], up: readonly number[] = [0, 0, 1]): number[] {
  const f = [target[0] - pos[0], target[1] - pos[1], target[2] - pos[2]];
  const fn = Math.hypot(f[0], f[1], f[2]);
  const fw = f.map((v) => v / fn);
  // x = f x up, y = x x f (camera right and up)
  let x = [fw[1] * up[2] - fw[2] * up[1], fw[2] * up[0] - fw[0] * up[2], fw[0] * up[1] - fw[1] * up[0]];
  const xn = Math.hypot(x[0], x[1], x[2]);
  if (xn < 1e-9) throw new Error('lookAtXyAxes: the view direction is parallel to up');
  x = x.map((v) => v / xn);
  const y = [x[1] * fw[2] - x[2] * fw[1], x[2] * fw[0] - x[0] * fw[2], x[0] * fw[1] - x[1] * fw[0]];
  return [...x, ...y];
}
