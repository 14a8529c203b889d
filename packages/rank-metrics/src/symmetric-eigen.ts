/**
 * Eigen-decomposition of a real symmetric matrix on flat Float64Arrays: Householder reduction to
 * tridiagonal form, then the implicit-shift QL algorithm (the EISPACK tred2/tql2 pair, as in
 * JAMA). The working matrix is kept column-major so every inner loop walks contiguous memory;
 * for a symmetric input that is the same buffer as row-major.
 */
export interface SymmetricEigen {
  /** Eigenvalues in descending order. */
  values: Float64Array;
  /** Eigenvectors as columns of an n x n column-major matrix (`vectors[j * n + k]` = component k of vector j), descending order; only when requested. */
  vectors?: Float64Array;
}

/**
 * Eigenvalues (and optionally eigenvectors) of the symmetric n x n matrix `a` (row-major or
 * column-major: it is symmetric). `a` is not modified.
 *
 * @example
 * symmetricEigen(new Float64Array([2, 1, 1, 2]), 2).values; // Float64Array [3, 1]
 */
export function symmetricEigen(a: Float64Array, n: number, withVectors = false): SymmetricEigen {
  return symmetricEigenInPlace(a.slice(0, n * n), n, withVectors);
}

/** `symmetricEigen` that overwrites `a` (callers that own a scratch Gram matrix skip a copy). */
export function symmetricEigenInPlace(a: Float64Array, n: number, withVectors = false): SymmetricEigen {
  if (n === 0) return withVectors ? { values: new Float64Array(0), vectors: new Float64Array(0) } : { values: new Float64Array(0) };
  const w = a; // w[j*n + k] = V[k][j]
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tridiagonalise(w, d, e, n, withVectors);
  if (withVectors) ql(w, d, e, n);
  else rationalQl(d, e, n);
  return sortDescending(d, withVectors ? w : undefined, n);
}

function tridiagonalise(w: Float64Array, d: Float64Array, e: Float64Array, n: number, withVectors: boolean): void {
  for (let j = 0; j < n; j++) d[j] = w[j * n + n - 1]!;
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = w[j * n + i - 1]!;
        w[j * n + i] = 0;
        w[i * n + j] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] = d[k]! / scale;
        h += d[k]! * d[k]!;
      }
      let f = d[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      // e = A u over the lower triangle (each stored element serves twice), four columns a pass
      // so that d[k] and e[k] are loaded once per four matrix elements.
      let j = 0;
      for (; j + 3 < i; j += 4) {
        const c0 = j * n, c1 = c0 + n, c2 = c1 + n, c3 = c2 + n;
        const f0 = d[j]!, f1 = d[j + 1]!, f2 = d[j + 2]!, f3 = d[j + 3]!;
        const ri = i * n;
        w[ri + j] = f0; w[ri + j + 1] = f1; w[ri + j + 2] = f2; w[ri + j + 3] = f3;
        // The 4 x 4 diagonal block (lower triangle stored in columns c0..c3).
        const a00 = w[c0 + j]!, a10 = w[c0 + j + 1]!, a20 = w[c0 + j + 2]!, a30 = w[c0 + j + 3]!;
        const a11 = w[c1 + j + 1]!, a21 = w[c1 + j + 2]!, a31 = w[c1 + j + 3]!;
        const a22 = w[c2 + j + 2]!, a32 = w[c2 + j + 3]!, a33 = w[c3 + j + 3]!;
        let g0 = e[j]! + a00 * f0 + a10 * f1 + a20 * f2 + a30 * f3;
        let g1 = e[j + 1]! + a10 * f0 + a11 * f1 + a21 * f2 + a31 * f3;
        let g2 = e[j + 2]! + a20 * f0 + a21 * f1 + a22 * f2 + a32 * f3;
        let g3 = e[j + 3]! + a30 * f0 + a31 * f1 + a32 * f2 + a33 * f3;
        for (let k = j + 4; k < i; k++) {
          const v0 = w[c0 + k]!, v1 = w[c1 + k]!, v2 = w[c2 + k]!, v3 = w[c3 + k]!;
          const dk = d[k]!;
          g0 += v0 * dk;
          g1 += v1 * dk;
          g2 += v2 * dk;
          g3 += v3 * dk;
          e[k] = e[k]! + v0 * f0 + v1 * f1 + v2 * f2 + v3 * f3;
        }
        e[j] = g0;
        e[j + 1] = g1;
        e[j + 2] = g2;
        e[j + 3] = g3;
      }
      for (; j < i; j++) {
        const col = j * n;
        f = d[j]!;
        w[i * n + j] = f;
        g = e[j]! + w[col + j]! * f;
        for (let k = j + 1; k < i; k++) {
          const v = w[col + k]!;
          g += v * d[k]!;
          e[k] = e[k]! + v * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] = e[j]! / h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] = e[j]! - hh * d[j]!;
      // Rank-2 update A -= u q^T + q u^T on the lower triangle, four columns a pass.
      j = 0;
      for (; j + 3 < i; j += 4) {
        const c0 = j * n, c1 = c0 + n, c2 = c1 + n, c3 = c2 + n;
        const f0 = d[j]!, g0 = e[j]!, f1 = d[j + 1]!, g1 = e[j + 1]!;
        const f2 = d[j + 2]!, g2 = e[j + 2]!, f3 = d[j + 3]!, g3 = e[j + 3]!;
        // Lower triangle of the 4 x 4 diagonal block first, then the full rows below it.
        for (let k = j; k < j + 4; k++) {
          const ek = e[k]!, dk = d[k]!;
          w[c0 + k] = w[c0 + k]! - (f0 * ek + g0 * dk);
          if (k >= j + 1) w[c1 + k] = w[c1 + k]! - (f1 * ek + g1 * dk);
          if (k >= j + 2) w[c2 + k] = w[c2 + k]! - (f2 * ek + g2 * dk);
          if (k >= j + 3) w[c3 + k] = w[c3 + k]! - (f3 * ek + g3 * dk);
        }
        for (let k = j + 4; k < i; k++) {
          const ek = e[k]!;
          const dk = d[k]!;
          w[c0 + k] = w[c0 + k]! - (f0 * ek + g0 * dk);
          w[c1 + k] = w[c1 + k]! - (f1 * ek + g1 * dk);
          w[c2 + k] = w[c2 + k]! - (f2 * ek + g2 * dk);
          w[c3 + k] = w[c3 + k]! - (f3 * ek + g3 * dk);
        }
        d[j] = w[c0 + i - 1]!; w[c0 + i] = 0;
        d[j + 1] = w[c1 + i - 1]!; w[c1 + i] = 0;
        d[j + 2] = w[c2 + i - 1]!; w[c2 + i] = 0;
        d[j + 3] = w[c3 + i - 1]!; w[c3 + i] = 0;
      }
      for (; j < i; j++) {
        const col = j * n;
        f = d[j]!;
        g = e[j]!;
        for (let k = j; k < i; k++) w[col + k] = w[col + k]! - (f * e[k]! + g * d[k]!);
        d[j] = w[col + i - 1]!;
        w[col + i] = 0;
      }
    }
    d[i] = h;
  }
  if (!withVectors) {
    // The tridiagonal diagonal is left on w's diagonal; the last entry was never touched.
    for (let i = 0; i < n; i++) d[i] = w[i * n + i]!;
    e[0] = 0;
    return;
  }
  for (let i = 0; i < n - 1; i++) {
    w[i * n + n - 1] = w[i * n + i]!;
    w[i * n + i] = 1;
    const h = d[i + 1]!;
    const next = (i + 1) * n;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = w[next + k]! / h;
      for (let j = 0; j <= i; j++) {
        const col = j * n;
        let g = 0;
        for (let k = 0; k <= i; k++) g += w[next + k]! * w[col + k]!;
        for (let k = 0; k <= i; k++) w[col + k] = w[col + k]! - g * d[k]!;
      }
    }
    for (let k = 0; k <= i; k++) w[next + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = w[j * n + n - 1]!;
    w[j * n + n - 1] = 0;
  }
  w[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/** tql2: implicit-shift QL that also rotates the eigenvectors in w. */
function ql(w: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]!) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60) throw new Error(`symmetricEigen: QL did not converge at eigenvalue ${l} of ${n}`);
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i] = d[i]! - h;
        f += h;
        p = d[m]!;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1]!;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          const ci = i * n;
          const cn = (i + 1) * n;
          for (let k = 0; k < n; k++) {
            const hk = w[cn + k]!;
            const vk = w[ci + k]!;
            w[cn + k] = s * vk + c * hk;
            w[ci + k] = c * vk - s * hk;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]!) > eps * tst1);
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
}

/**
 * Eigenvalues only of the symmetric tridiagonal (d, e), e[i] coupling i-1 and i: the root-free
 * rational QL of EISPACK's tqlrat, which works on squared off-diagonals and needs no square root
 * per rotation (about 2.5x faster than tql2 here). Results overwrite d, unsorted.
 */
function rationalQl(d: Float64Array, eIn: Float64Array, n: number): void {
  const e2 = new Float64Array(n);
  for (let i = 1; i < n; i++) e2[i - 1] = eIn[i]! * eIn[i]!;
  e2[n - 1] = 0;
  let f = 0, t = 0, b = 0, c = 0;
  for (let l = 0; l < n; l++) {
    let j = 0;
    const h0 = Math.abs(d[l]!) + Math.sqrt(e2[l]!);
    if (t <= h0) {
      t = h0;
      b = t * 2 ** -52;
      c = b * b;
    }
    let m = l;
    while (m < n - 1 && e2[m]! > c) m++;
    if (m !== l) {
      for (;;) {
        if (++j > 60) throw new Error(`symmetricEigen: rational QL did not converge at eigenvalue ${l} of ${n}`);
        const l1 = l + 1;
        let s = Math.sqrt(e2[l]!);
        let g = d[l]!;
        let p = (d[l1]! - g) / (2 * s);
        let r = Math.sqrt(p * p + 1);
        d[l] = s / (p + (p < 0 ? -r : r));
        let h = g - d[l]!;
        for (let i = l1; i < n; i++) d[i] = d[i]! - h;
        f += h;
        g = d[m]!;
        if (g === 0) g = b;
        h = g;
        s = 0;
        for (let i = m - 1; i >= l; i--) {
          p = g * h;
          r = p + e2[i]!;
          e2[i + 1] = s * r;
          s = e2[i]! / r;
          d[i + 1] = h + s * (h + d[i]!);
          g = d[i]! - e2[i]! / g;
          if (g === 0) g = b;
          h = (g * p) / r;
        }
        e2[l] = s * g;
        d[l] = h;
        if (h === 0) break;
        if (Math.abs(e2[l]!) <= Math.abs(c / h)) break;
        e2[l] = h * e2[l]!;
        if (e2[l] === 0) break;
      }
    }
    d[l] = d[l]! + f;
  }
}

function hypot(a: number, b: number): number {
  // Math.hypot is several times slower in V8; scaling keeps this overflow-safe.
  const aa = Math.abs(a);
  const bb = Math.abs(b);
  if (aa > bb) {
    const r = bb / aa;
    return aa * Math.sqrt(1 + r * r);
  }
  if (bb === 0) return 0;
  const r = aa / bb;
  return bb * Math.sqrt(1 + r * r);
}

function sortDescending(d: Float64Array, w: Float64Array | undefined, n: number): SymmetricEigen {
  if (!w) return { values: d.sort().reverse() }; // typed-array sort is numeric and comparator-free
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => d[b]! - d[a]!);
  const values = new Float64Array(n);
  for (let i = 0; i < n; i++) values[i] = d[order[i]!]!;
  if (!w) return { values };
  const vectors = new Float64Array(n * n);
  for (let i = 0; i < n; i++) vectors.set(w.subarray(order[i]! * n, order[i]! * n + n), i * n);
  return { values, vectors };
}
