/**
 * A z-buffer rasterizer of MuJoCo's primitive geoms (plane, sphere, capsule, ellipsoid, cylinder,
 * box): flat-shaded triangles, perspective-correct depth, near-plane clipping. It needs no GPU and
 * gives the same image in Node and a browser.
 *
 * Camera model (MuJoCo's): the camera looks along its -z axis, image up is +y; `cam_fovy` is the
 * vertical field of view in degrees; focal length f = (H / 2) / tan(fovy / 2) pixels. Pixel (u, v)
 * has its centre at (u + 0.5, v + 0.5), v growing downwards. Depth is the distance along the
 * viewing axis (m), not along the ray.
 */
import { GEOM, type MjData, type MjModel } from './mujoco.ts';

/** A rendered frame: RGB u8 [H, W, 3], depth (m, Infinity where nothing) and geom id (-1: none) [H, W]. */
export type Frame = { width: number; height: number; rgb: Uint8Array; depth: Float32Array; geom: Int32Array };

type Mesh = { geom: number; verts: Float32Array; tris: Uint16Array; normals: Float32Array; color: [number, number, number] };

const NEAR = 0.01;
const SKY: [number, number, number] = [178, 196, 214];
/** Light direction (world, towards the light) and the ambient / diffuse split. */
const LIGHT = normalize([0.4, 0.3, 1.0]);
const AMBIENT = 0.45;
const DIFFUSE = 0.55;

function normalize(v: number[]): [number, number, number] {
  const n = Math.hypot(v[0], v[1], v[2]);
  return [v[0] / n, v[1] / n, v[2] / n];
}

/** A unit sphere's rings from `lat0` to `lat1` (polar angle, rad), shifted by dz, as rows of points. */
function ring(n: number, polar: number, r: number, dz: number, sx = 1, sy = 1, sz = 1): number[][] {
  const out: number[][] = [];
  for (let k = 0; k < n; k++) {
    const a = (2 * Math.PI * k) / n;
    out.push([sx * r * Math.sin(polar) * Math.cos(a), sy * r * Math.sin(polar) * Math.sin(a), sz * r * Math.cos(polar) + dz]);
  }
  return out;
}

/** Triangles of a closed convex surface given as rings of points (first and last may be poles). */
function loft(rings: number[][][]): { verts: number[][]; tris: number[][] } {
  const verts: number[][] = [];
  const idx: number[][] = rings.map((r) => r.map((p) => verts.push(p) - 1));
  const tris: number[][] = [];
  for (let i = 0; i + 1 < rings.length; i++) {
    const a = idx[i];
    const b = idx[i + 1];
    const n = Math.max(a.length, b.length);
    for (let k = 0; k < n; k++) {
      const a0 = a[k % a.length], a1 = a[(k + 1) % a.length], b0 = b[k % b.length], b1 = b[(k + 1) % b.length];
      if (a.length > 1) tris.push([a0, a1, b0]);
      if (b.length > 1) tris.push([a1, b1, b0]);
    }
  }
  return { verts, tris };
}

/** Local-frame triangles of a geom of type `type` and MuJoCo `size`. */
function primitive(type: number, s: Float64Array | number[]): { verts: number[][]; tris: number[][] } | undefined {
  const pole = (z: number) => [[0, 0, z]];
  switch (type) {
    case GEOM.plane: {
      const x = s[0] > 0 ? s[0] : 10, y = s[1] > 0 ? s[1] : 10;
      return { verts: [[-x, -y, 0], [x, -y, 0], [x, y, 0], [-x, y, 0]], tris: [[0, 1, 2], [0, 2, 3]] };
    }
    case GEOM.box: {
      const [x, y, z] = [s[0], s[1], s[2]];
      const v = [[-x, -y, -z], [x, -y, -z], [x, y, -z], [-x, y, -z], [-x, -y, z], [x, -y, z], [x, y, z], [-x, y, z]];
      const faces = [[0, 1, 2, 3], [4, 5, 6, 7], [0, 1, 5, 4], [1, 2, 6, 5], [2, 3, 7, 6], [3, 0, 4, 7]];
      return { verts: v, tris: faces.flatMap(([a, b, c, d]) => [[a, b, c], [a, c, d]]) };
    }
    case GEOM.sphere:
    case GEOM.ellipsoid: {
      const [sx, sy, sz] = type === GEOM.sphere ? [1, 1, 1] : [1, s[1] / s[0], s[2] / s[0]];
      const rings = [pole(s[0] * sz), ...[1, 2, 3, 4, 5].map((i) => ring(10, (Math.PI * i) / 6, s[0], 0, sx, sy, sz)), pole(-s[0] * sz)];
      return loft(rings);
    }
    case GEOM.capsule: {
      const [r, h] = [s[0], s[1]];
      const top = [1, 2].map((i) => ring(10, (Math.PI * i) / 6, r, h));
      const bottom = [4, 5].map((i) => ring(10, (Math.PI * i) / 6, r, -h));
      return loft([pole(h + r), ...top, ring(10, Math.PI / 2, r, h), ring(10, Math.PI / 2, r, -h), ...bottom, pole(-h - r)]);
    }
    case GEOM.cylinder: {
      const [r, h] = [s[0], s[1]];
      return loft([pole(h), ring(16, Math.PI / 2, r, h), ring(16, Math.PI / 2, r, -h), pole(-h)]);
    }
    default:
      return undefined; // meshes and height fields are not drawn
  }
}

/** Builds the meshes of every visible geom (groups 0-2, alpha > 0). */
function buildMeshes(model: MjModel): Mesh[] {
  const types = model.geom_type as Int32Array;
  const sizes = model.geom_size as Float64Array;
  const groups = model.geom_group as Int32Array;
  const rgba = model.geom_rgba as Float32Array;
  const meshes: Mesh[] = [];
  for (let g = 0; g < model.ngeom; g++) {
    if (groups[g] > 2 || rgba[4 * g + 3] <= 0) continue;
    const prim = primitive(types[g], sizes.subarray(3 * g, 3 * g + 3));
    if (!prim) continue;
    const flat = types[g] === GEOM.plane;
    const normals = new Float32Array(prim.tris.length * 3);
    prim.tris.forEach(([a, b, c], t) => {
      const [pa, pb, pc] = [prim.verts[a], prim.verts[b], prim.verts[c]];
      const u = [pb[0] - pa[0], pb[1] - pa[1], pb[2] - pa[2]];
      const v = [pc[0] - pa[0], pc[1] - pa[1], pc[2] - pa[2]];
      let n = normalize([u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]]);
      // outward: planes face +z; convex solids face away from their centre
      const out = flat ? [0, 0, 1] : [(pa[0] + pb[0] + pc[0]) / 3, (pa[1] + pb[1] + pc[1]) / 3, (pa[2] + pb[2] + pc[2]) / 3];
      if (n[0] * out[0] + n[1] * out[1] + n[2] * out[2] < 0) n = [-n[0], -n[1], -n[2]];
      normals.set(n, 3 * t);
    });
    meshes.push({
      geom: g,
      verts: Float32Array.from(prim.verts.flat()),
      tris: Uint16Array.from(prim.tris.flat()),
      normals,
      color: [rgba[4 * g], rgba[4 * g + 1], rgba[4 * g + 2]],
    });
  }
  return meshes;
}

/** Renders camera images of one model. Reuse one instance per model (it caches the meshes). */
export class Rasterizer {
  private readonly meshes: Mesh[];
  private readonly fovy: Float64Array;
  private cam = new Float32Array(0); // camera-frame vertex scratch [x, y, z] per vertex

  constructor(model: MjModel) {
    this.meshes = buildMeshes(model);
    this.fovy = Float64Array.from(model.cam_fovy as Float64Array);
  }

  /** Renders camera `camId` of `data` (after mj_forward or mj_step) at width x height. */
  render(data: MjData, camId: number, width: number, height: number, out?: Frame): Frame {
    const n = width * height;
    const f: Frame = out ?? { width, height, rgb: new Uint8Array(3 * n), depth: new Float32Array(n), geom: new Int32Array(n) };
    const invDepth = new Float32Array(n); // 1 / depth, 0 = empty (nearer = larger)
    for (let i = 0; i < n; i++) {
      f.rgb[3 * i] = SKY[0];
      f.rgb[3 * i + 1] = SKY[1];
      f.rgb[3 * i + 2] = SKY[2];
      f.geom[i] = -1;
    }
    const cp = data.cam_xpos as Float64Array;
    const cm = data.cam_xmat as Float64Array;
    const c = camId * 3;
    const R = cm.subarray(camId * 9, camId * 9 + 9); // world from camera, row-major (columns = camera axes)
    const focal = height / 2 / Math.tan((this.fovy[camId] * Math.PI) / 360);
    const light = [
      R[0] * LIGHT[0] + R[3] * LIGHT[1] + R[6] * LIGHT[2],
      R[1] * LIGHT[0] + R[4] * LIGHT[1] + R[7] * LIGHT[2],
      R[2] * LIGHT[0] + R[5] * LIGHT[1] + R[8] * LIGHT[2],
    ];
    const gx = data.geom_xpos as Float64Array;
    const gm = data.geom_xmat as Float64Array;
    const M = new Float64Array(9);
    const t = new Float64Array(3);
    const poly = new Float64Array(4 * 3 * 2); // clipped polygon (<= 4 vertices) scratch, x2
    for (const mesh of this.meshes) {
      const g = mesh.geom;
      // M = Rc^T Rg, t = Rc^T (pg - pc): geom local -> camera frame
      for (let r = 0; r < 3; r++) {
        for (let k = 0; k < 3; k++) M[3 * r + k] = R[r] * gm[9 * g + k] + R[3 + r] * gm[9 * g + 3 + k] + R[6 + r] * gm[9 * g + 6 + k];
        t[r] = R[r] * (gx[3 * g] - cp[c]) + R[3 + r] * (gx[3 * g + 1] - cp[c + 1]) + R[6 + r] * (gx[3 * g + 2] - cp[c + 2]);
      }
      const nv = mesh.verts.length / 3;
      if (this.cam.length < 3 * nv) this.cam = new Float32Array(3 * nv);
      const v = mesh.verts;
      const cam = this.cam;
      for (let i = 0; i < nv; i++) {
        const x = v[3 * i], y = v[3 * i + 1], z = v[3 * i + 2];
        cam[3 * i] = M[0] * x + M[1] * y + M[2] * z + t[0];
        cam[3 * i + 1] = M[3] * x + M[4] * y + M[5] * z + t[1];
        cam[3 * i + 2] = M[6] * x + M[7] * y + M[8] * z + t[2];
      }
      const tris = mesh.tris;
      for (let k = 0; k < tris.length / 3; k++) {
        const a = tris[3 * k], b = tris[3 * k + 1], cc = tris[3 * k + 2];
        const ln = mesh.normals;
        const nx = M[0] * ln[3 * k] + M[1] * ln[3 * k + 1] + M[2] * ln[3 * k + 2];
        const ny = M[3] * ln[3 * k] + M[4] * ln[3 * k + 1] + M[5] * ln[3 * k + 2];
        const nz = M[6] * ln[3 * k] + M[7] * ln[3 * k + 1] + M[8] * ln[3 * k + 2];
        // back-face culling: the camera sits at the origin of the camera frame
        if (nx * cam[3 * a] + ny * cam[3 * a + 1] + nz * cam[3 * a + 2] >= 0) continue;
        const shade = AMBIENT + DIFFUSE * Math.max(0, nx * light[0] + ny * light[1] + nz * light[2]);
        const r8 = Math.min(255, 255 * mesh.color[0] * shade);
        const g8 = Math.min(255, 255 * mesh.color[1] * shade);
        const b8 = Math.min(255, 255 * mesh.color[2] * shade);
        // near-plane clipping (depth = -z >= NEAR) of the triangle into a polygon
        let m = 0;
        const idx = [a, b, cc];
        for (let e = 0; e < 3; e++) {
          const p = idx[e], q = idx[(e + 1) % 3];
          const dp = -cam[3 * p + 2] - NEAR, dq = -cam[3 * q + 2] - NEAR;
          if (dp >= 0) {
            poly[3 * m] = cam[3 * p]; poly[3 * m + 1] = cam[3 * p + 1]; poly[3 * m + 2] = cam[3 * p + 2];
            m++;
          }
          if ((dp >= 0) !== (dq >= 0)) {
            const s = dp / (dp - dq);
            for (let j = 0; j < 3; j++) poly[3 * m + j] = cam[3 * p + j] + s * (cam[3 * q + j] - cam[3 * p + j]);
            m++;
          }
        }
        for (let j = 1; j + 1 < m; j++) {
          this.fill(f, invDepth, poly, 0, j, j + 1, focal, width, height, r8, g8, b8, g);
        }
      }
    }
    for (let i = 0; i < n; i++) f.depth[i] = invDepth[i] > 0 ? 1 / invDepth[i] : Infinity;
    return f;
  }

  /** Fills one camera-frame triangle (vertices i, j, k of `poly`) into the buffers. */
  private fill(f: Frame, zb: Float32Array, poly: Float64Array, i: number, j: number, k: number, focal: number, w: number, h: number, r8: number, g8: number, b8: number, geom: number): void {
    const cx = w / 2, cy = h / 2;
    const ia = 1 / -poly[3 * i + 2], ib = 1 / -poly[3 * j + 2], ic = 1 / -poly[3 * k + 2];
    const xa = cx + focal * poly[3 * i] * ia, ya = cy - focal * poly[3 * i + 1] * ia;
    const xb = cx + focal * poly[3 * j] * ib, yb = cy - focal * poly[3 * j + 1] * ib;
    const xc = cx + focal * poly[3 * k] * ic, yc = cy - focal * poly[3 * k + 1] * ic;
    const area = (xb - xa) * (yc - ya) - (xc - xa) * (yb - ya);
    if (area === 0 || !Number.isFinite(area)) return;
    const x0 = Math.max(0, Math.floor(Math.min(xa, xb, xc))), x1 = Math.min(w - 1, Math.ceil(Math.max(xa, xb, xc)));
    const y0 = Math.max(0, Math.floor(Math.min(ya, yb, yc))), y1 = Math.min(h - 1, Math.ceil(Math.max(ya, yb, yc)));
    const inv = 1 / area;
    for (let y = y0; y <= y1; y++) {
      const py = y + 0.5;
      for (let x = x0; x <= x1; x++) {
        const px = x + 0.5;
        const w0 = ((xb - px) * (yc - py) - (xc - px) * (yb - py)) * inv;
        const w1 = ((xc - px) * (ya - py) - (xa - px) * (yc - py)) * inv;
        const w2 = 1 - w0 - w1;
        if (w0 < 0 || w1 < 0 || w2 < 0) continue;
        const z = w0 * ia + w1 * ib + w2 * ic; // 1/depth is affine in screen space
        const p = y * w + x;
        if (z <= zb[p]) continue;
        zb[p] = z;
        f.rgb[3 * p] = r8;
        f.rgb[3 * p + 1] = g8;
        f.rgb[3 * p + 2] = b8;
        f.geom[p] = geom;
      }
    }
  }
}
