#!/usr/bin/env python3
"""Fit the polynomial used by fast.h.

We approximate expm1(r) = r + r^2 * P(r) on the Cody-Waite reduced interval
|r| <= ln2/2 (slightly widened for the rounding of n = rint(x/ln2)), minimising
the maximum RELATIVE error of expm1:  |(r + r^2 P(r)) / expm1(r) - 1|.
That one criterion serves both uses in fast.h:
  * exp(r)   = 1 + (r + r^2 P(r))        (abs. error of the sum <= rel. err * 0.41)
  * expm1(r) =      r + r^2 P(r)         (tanh needs the relative accuracy near 0)

Method: weighted Remez exchange in mpmath (40 digits) for P of degree d,
then the coefficients are rounded to nearest in the target format (the
script prints the error of the rounded polynomial too: the rounding costs
little because the error is dominated by the arithmetic, not the fit).

Usage: python3 fit.py            (prints C literals for f32 and f64)
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40
LN2 = mp.log(2)


def f32(v):
    return mp.mpf(float(np.float32(float(v))))


def f64(v):
    return mp.mpf(float(v))


def remez(target, weight, fixed_low, free_deg, a, b, grid, iters=40):
    """Minimise max_x |weight(x) * (target(x) - fixed(x) - x^k Q(x))| where
    fixed = sum fixed_low[j] x^j (j < k) and Q has degree free_deg.
    target/weight are given as precomputed values on `grid`."""
    k = len(fixed_low)
    # e(x) = w (t - fixed - x^k Q) = w x^k (g - Q),  g = (t - fixed)/x^k:
    # equivalent to Remez for Q against g with weight W = w |x|^k.
    g, W = [], []
    for i, x in enumerate(grid):
        r = target[i] - sum(c * x ** j for j, c in enumerate(fixed_low))
        if x == 0:
            g.append(mp.mpf(0)); W.append(mp.mpf(0))
        else:
            g.append(r / x ** k); W.append(weight[i] * abs(x) ** k)
    m = free_deg + 1  # unknown coefficients
    # initial reference: Chebyshev extrema mapped to [a,b], snapped to grid
    idx = []
    for i in range(m + 1):
        x = (a + b) / 2 - (b - a) / 2 * mp.cos(mp.pi * i / m)
        idx.append(min(range(len(grid)), key=lambda t: abs(grid[t] - x)))
    idx = sorted(set(idx))
    last = None
    for _ in range(iters):
        n = len(idx)
        A = mp.matrix(n, m + 1)
        rhs = mp.matrix(n, 1)
        for row, i in enumerate(idx):
            x = grid[i]
            for j in range(m):
                A[row, j] = x ** j
            A[row, m] = (-1) ** row / W[i]
            rhs[row] = g[i]
        sol = mp.lu_solve(A, rhs)
        coef = [sol[j] for j in range(m)]
        rc = coef[::-1]
        err = [W[i] * (g[i] - mp.polyval(rc, x)) for i, x in enumerate(grid)]
        # new reference: one extremum per sign run, then keep m+1 alternating
        runs = []
        cur = None
        for i, e in enumerate(err):
            if e == 0:
                continue
            s = 1 if e > 0 else -1
            if cur is None or cur[0] != s:
                cur = [s, i]
                runs.append(cur)
            elif abs(e) > abs(err[cur[1]]):
                cur[1] = i
        while len(runs) > m + 1:  # drop the smaller end
            if abs(err[runs[0][1]]) < abs(err[runs[-1][1]]):
                runs.pop(0)
            else:
                runs.pop()
        idx = [r[1] for r in runs]
        emax = max(abs(e) for e in err)
        if last is not None and abs(emax - last) < emax * mp.mpf("1e-6"):
            break
        last = emax
    return coef, emax


def fit(deg, rnd, widen, npts=3000):
    """P(r) of degree deg; rnd rounds to the target format."""
    b = LN2 / 2 + widen
    a = -b
    grid = [a + (b - a) * i / (npts - 1) for i in range(npts)]
    # target (expm1(x)-x)/x^2 and weight x^2/expm1(x) (relative error of expm1)
    tv, wv = [], []
    for x in grid:
        if x == 0:
            tv.append(mp.mpf(1) / 2)
            wv.append(mp.mpf(0))
        else:
            e = mp.expm1(x)
            tv.append((e - x) / x ** 2)
            wv.append(abs(x ** 2 / e))
    coef, exact_err = remez(tv, wv, [], deg, a, b, grid)
    fixed = [rnd(c) for c in coef]
    # error with the coefficients rounded to the target format (exact arithmetic)
    emax = max(abs(wv[i] * (tv[i] - mp.polyval(fixed[::-1], x))) for i, x in enumerate(grid))
    return fixed, exact_err, emax


if __name__ == "__main__":
    for name, rnd, widen, degs, digs, suf in (
        ("f32", f32, mp.mpf("3e-5"), (4,), 9, "f"),
        ("f64", f64, mp.mpf("1e-12"), (9,), 17, ""),
    ):
        for d in degs:
            c, e0, e1 = fit(d, rnd, widen)
            print(f"{name}: P degree {d} (expm1 degree {d + 2}): minimax rel err {mp.nstr(e0, 3)}, "
                  f"after rounding coefficients {mp.nstr(e1, 3)}")
            for j, v in enumerate(c):
                print(f"    #define C{j + 2} {float(v):.{digs}g}{suf}")
