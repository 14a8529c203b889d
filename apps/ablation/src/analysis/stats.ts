// The statistics behind every claim of the report: t-intervals over seeds, the paired t-test, the
// exact sign-flip permutation test, Holm's step-down adjustment and the minimum detectable
// difference. Plain numbers in, plain numbers out: no tensors, no randomness.

/** Mean, sample standard deviation and a two-sided 95% t-interval of the mean over `n` values. */
export interface Estimate {
  mean: number;
  std: number;
  /** [low, high]; [NaN, NaN] below two values. */
  ci95: [number, number];
  n: number;
}

/** Sample counts at and above which the exact sign-flip test replaces the paired t-test. */
export const SIGN_FLIP_MIN_N = 12;
/** Above this many pairs the 2^n sign patterns are too many to enumerate: the t-test takes over (the CLT makes it accurate there). */
export const SIGN_FLIP_MAX_N = 20;

// Lanczos approximation (g = 7, n = 9): |error| < 1e-15 for x > 0, enough for the incomplete beta below.
const LANCZOS = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];

/**
 * ln Γ(x) for x > 0 (Lanczos, g = 7).
 *
 * @example
 * logGamma(5); // ln 24 = 3.1780538303479458
 */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

// Continued fraction of the incomplete beta (modified Lentz), valid for x < (a + 1) / (a + b + 2).
function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const step = d * c;
    h *= step;
    if (Math.abs(step - 1) < 1e-16) break;
  }
  return h;
}

/**
 * The regularized incomplete beta function I_x(a, b), for 0 <= x <= 1 and a, b > 0.
 *
 * @example
 * regularizedBeta(0.5, 2, 2); // 0.5
 */
export function regularizedBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(x, a, b)) / a : 1 - (front * betaFraction(1 - x, b, a)) / b;
}

/**
 * Two-sided tail probability of Student's t: P(|T_df| >= |t|) = I_{df/(df+t²)}(df/2, 1/2).
 *
 * @example
 * studentTTwoSided(2.7764451051977987, 4); // 0.05
 */
export function studentTTwoSided(t: number, df: number): number {
  if (Number.isNaN(t) || !(df > 0)) return Number.NaN;
  if (!Number.isFinite(t)) return 0;
  return regularizedBeta(df / (df + t * t), df / 2, 0.5);
}

/**
 * The quantile of Student's t: the q with P(T_df <= q) = p (bisection on the two-sided tail, to
 * about 1e-13).
 *
 * @example
 * studentTQuantile(0.975, 4); // 2.7764451051977987
 */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df > 0)) return Number.NaN;
  if (p === 0.5) return 0;
  const tail = 2 * Math.min(p, 1 - p);
  let lo = 0;
  let hi = 1;
  while (studentTTwoSided(hi, df) > tail) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-14 * Math.max(1, hi); i++) {
    const mid = (lo + hi) / 2;
    if (studentTTwoSided(mid, df) > tail) lo = mid;
    else hi = mid;
  }
  const q = (lo + hi) / 2;
  return p > 0.5 ? q : -q;
}

/**
 * Mean, sample standard deviation and the 95% t-interval mean ± t_{0.975, n-1} · std / √n of the
 * finite values (NaNs are left out).
 *
 * @example
 * estimate([1, 2, 3]); // { mean: 2, std: 1, ci95: [2 - 4.302652729911275 / √3, 2 + 4.302652729911275 / √3], n: 3 }
 */
export function estimate(values: readonly number[]): Estimate {
  const v = values.filter((x) => Number.isFinite(x));
  const n = v.length;
  if (n === 0) return { mean: Number.NaN, std: Number.NaN, ci95: [Number.NaN, Number.NaN], n: 0 };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { mean, std: 0, ci95: [Number.NaN, Number.NaN], n };
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const half = (studentTQuantile(0.975, n - 1) * std) / Math.sqrt(n);
  return { mean, std, ci95: [mean - half, mean + half], n };
}

/** A test of "the mean paired difference is 0". */
export interface PairedTest {
  test: 'paired-t' | 'sign-flip';
  /** Two-sided p-value; NaN below two pairs. */
  p: number;
  /** The t statistic mean / (std / √n) (±Infinity when every difference is the same non-zero value). */
  t: number;
  /** The paired t-test's p and the exact sign-flip p (NaN above SIGN_FLIP_MAX_N pairs), both always given. */
  pT: number;
  pSignFlip: number;
}

/**
 * Two-sided paired t-test of differences: t = mean / (std / √n), df = n - 1. Differences that are
 * all equal give t = ±Infinity and p = 0 (or t = 0, p = 1 when they are all 0).
 *
 * @example
 * pairedTTest([0.1, 0.12, 0.09, 0.11, 0.08]).p; // 1.4513e-4 (t = 14.142, df 4)
 */
export function pairedTTest(diffs: readonly number[]): { t: number; df: number; p: number } {
  const e = estimate(diffs);
  if (e.n < 2) return { t: Number.NaN, df: e.n - 1, p: Number.NaN };
  // equal differences leave only rounding in the std (0.1 three times has std 1.7e-17): no spread
  if (e.std <= 1e-12 * Math.abs(e.mean) || e.std === 0) return e.mean === 0 ? { t: 0, df: e.n - 1, p: 1 } : { t: Math.sign(e.mean) * Infinity, df: e.n - 1, p: 0 };
  const t = e.mean / (e.std / Math.sqrt(e.n));
  return { t, df: e.n - 1, p: studentTTwoSided(t, e.n - 1) };
}

/**
 * The exact two-sided sign-flip permutation test of paired differences: under "no difference"
 * each difference is as likely positive as negative, so all 2^n sign patterns are enumerated and
 * p is the share whose |sum| is at least the observed |sum|. With n pairs the smallest p is
 * 2 / 2^n: 0.0625 at n = 5, 0.03125 at n = 6. NaN for no pairs or more than SIGN_FLIP_MAX_N.
 *
 * @example
 * signFlipTest([1, 2, 3, 4, 5]); // 2 / 32 = 0.0625
 */
export function signFlipTest(diffs: readonly number[]): number {
  const d = diffs.filter((x) => Number.isFinite(x));
  const n = d.length;
  if (n === 0 || n > SIGN_FLIP_MAX_N) return Number.NaN;
  const observed = Math.abs(d.reduce((a, b) => a + b, 0));
  // sums differ from the observed one by rounding alone when they are the same pattern of magnitudes
  const tol = 1e-12 * d.reduce((a, b) => a + Math.abs(b), 0);
  const patterns = 2 ** n;
  let extreme = 0;
  for (let mask = 0; mask < patterns; mask++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += mask & (1 << i) ? -d[i]! : d[i]!;
    if (Math.abs(s) >= observed - tol) extreme++;
  }
  return extreme / patterns;
}

/**
 * The test a comparison over n pairs uses: the exact sign-flip test where it can resolve the
 * Holm thresholds of a report (SIGN_FLIP_MIN_N <= n <= SIGN_FLIP_MAX_N: its smallest p, 2 / 2^n,
 * is at most 2 / 4096 = 0.00049, below 0.05 / m for up to 102 comparisons), otherwise the paired
 * t-test (with fewer pairs the exact test's smallest p is too coarse: 0.0625 at 5, 0.0039 at 9,
 * so Holm over a report's comparisons could never let a claim through; above 20 pairs the t-test
 * is accurate by the CLT).
 *
 * @example
 * pairedTest([0.1, 0.12, 0.09, 0.11, 0.08]); // { test: 'paired-t', p: 1.4513e-4, pSignFlip: 0.0625, ... }
 */
export function pairedTest(diffs: readonly number[]): PairedTest {
  const d = diffs.filter((x) => Number.isFinite(x));
  const tt = pairedTTest(d);
  const pSignFlip = signFlipTest(d);
  const exact = d.length >= SIGN_FLIP_MIN_N && d.length <= SIGN_FLIP_MAX_N;
  return { test: exact ? 'sign-flip' : 'paired-t', p: exact ? pSignFlip : tt.p, t: tt.t, pT: tt.p, pSignFlip };
}

/**
 * Holm's step-down adjustment: sort the m p-values ascending, multiply the i-th (1-based) by
 * m - i + 1, carry the running maximum and cap at 1. It controls the family-wise error rate at α
 * for any dependence between the tests; a NaN p counts as 1.
 *
 * @example
 * holmAdjust([0.01, 0.04, 0.03]); // [0.03, 0.06, 0.06]
 */
export function holmAdjust(ps: readonly number[]): number[] {
  const m = ps.length;
  const order = ps.map((p, i) => ({ p: Number.isNaN(p) ? 1 : p, i })).sort((a, b) => a.p - b.p || a.i - b.i);
  const out = new Array<number>(m).fill(1);
  let running = 0;
  order.forEach(({ p, i }, k) => {
    running = Math.max(running, Math.min(1, (m - k) * p));
    out[i] = running;
  });
  return out;
}

/**
 * The smallest true mean difference a paired t-test over n pairs detects with probability `power`
 * at two-sided level `alpha`, for differences with standard deviation `std`:
 * (t_{1-alpha/2, n-1} + t_{power, n-1}) · std / √n (the usual normal-theory approximation with t
 * quantiles). NaN below two pairs.
 *
 * @example
 * minimumDetectableDifference(0.02, 5, 0.05); // (2.7764451051977987 + 0.9409645..) · 0.02 / √5 = 0.03325
 */
export function minimumDetectableDifference(std: number, n: number, alpha: number, power = 0.8): number {
  if (n < 2 || !Number.isFinite(std)) return Number.NaN;
  return ((studentTQuantile(1 - alpha / 2, n - 1) + studentTQuantile(power, n - 1)) * std) / Math.sqrt(n);
}
