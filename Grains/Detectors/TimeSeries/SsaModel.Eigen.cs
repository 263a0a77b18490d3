namespace AnomalyZT.Grains.Detectors.TimeSeries;

public sealed partial class SsaModel
{
    private const double MachineEpsilon = 2.220446049250313e-16;
    private const int MaxQlIterationsPerValue = 64;

    /// <summary>Eigen-decomposes a real symmetric n×n matrix: Householder reduction to tridiagonal form, then the
    /// implicit-shift QL method, accumulating every transformation into the eigenvectors. O(n³), allocates O(n²).</summary>
    /// <param name="matrix">Row-major n×n symmetric matrix; overwritten.</param>
    /// <param name="n">Order of the matrix.</param>
    /// <param name="values">Receives the n eigenvalues, largest first (ties keep their order).</param>
    /// <param name="vectors">Receives the unit eigenvectors column-major: vectors[i·n + k] is component k of the vector of values[i].</param>
    /// <returns>False when QL does not converge or the result is not finite.</returns>
    internal static bool TryDecomposeSymmetric(double[] matrix, int n, double[] values, double[] vectors)
    {
        var q = new double[n * n];
        var d = new double[n];
        var e = new double[n];
        Tridiagonalise(matrix, n, q, d, e);
        if (!TryImplicitQl(n, d, e, q))
        {
            return false;
        }

        foreach (var v in d)
        {
            if (!double.IsFinite(v))
            {
                return false;
            }
        }

        foreach (var v in q)
        {
            if (!double.IsFinite(v))
            {
                return false;
            }
        }

        SortDescending(n, d, q, values, vectors);
        return true;
    }

    /// <summary>Reduces <paramref name="m"/> (row-major) to T = Qᵀ·M·Q with diagonal <paramref name="d"/> and
    /// sub-diagonal <paramref name="e"/> (e[i] couples i and i+1; e[n−1] = 0); <paramref name="q"/> gets Q column-major.</summary>
    private static void Tridiagonalise(double[] m, int n, double[] q, double[] d, double[] e)
    {
        for (var i = 0; i < n; i++)
        {
            q[(i * n) + i] = 1;
        }

        var v = new double[n];
        var p = new double[n];
        for (var k = 0; k + 2 < n; k++)
        {
            // x = column k below the diagonal, i.e. rows k+1..n−1; size s.
            var s = n - k - 1;
            var x0 = m[((k + 1) * n) + k];
            var tail = 0.0;
            for (var i = 1; i < s; i++)
            {
                var xi = m[((k + 1 + i) * n) + k];
                tail += xi * xi;
            }

            if (tail == 0)
            {
                // Already tridiagonal in this column: no reflection, so decoupled structure stays exact.
                e[k] = x0;
                continue;
            }

            var norm = Math.Sqrt((x0 * x0) + tail);
            var alpha = x0 >= 0 ? -norm : norm;
            v[0] = x0 - alpha;
            for (var i = 1; i < s; i++)
            {
                v[i] = m[((k + 1 + i) * n) + k];
            }

            var vtv = (v[0] * v[0]) + tail;
            var beta = 2 / vtv;

            // B ← H·B·H with H = I − β·v·vᵀ, via p = β·B·v, q' = p − (β/2)(vᵀp)·v, B ← B − v·q'ᵀ − q'·vᵀ.
            for (var i = 0; i < s; i++)
            {
                var row = (k + 1 + i) * n;
                var acc = 0.0;
                for (var j = 0; j < s; j++)
                {
                    acc += m[row + k + 1 + j] * v[j];
                }

                p[i] = beta * acc;
            }

            var vp = 0.0;
            for (var i = 0; i < s; i++)
            {
                vp += v[i] * p[i];
            }

            var half = 0.5 * beta * vp;
            for (var i = 0; i < s; i++)
            {
                p[i] -= half * v[i];
            }

            for (var i = 0; i < s; i++)
            {
                var row = (k + 1 + i) * n;
                for (var j = 0; j < s; j++)
                {
                    m[row + k + 1 + j] -= (v[i] * p[j]) + (p[i] * v[j]);
                }
            }

            e[k] = alpha;

            // Q ← Q·H on columns k+1..n−1: t = Q_sub·v (per row), Q_sub −= β·t·vᵀ.
            Array.Clear(p);
            for (var j = 0; j < s; j++)
            {
                var col = (k + 1 + j) * n;
                var vj = v[j];
                for (var r = 0; r < n; r++)
                {
                    p[r] += q[col + r] * vj;
                }
            }

            for (var j = 0; j < s; j++)
            {
                var col = (k + 1 + j) * n;
                var bv = beta * v[j];
                for (var r = 0; r < n; r++)
                {
                    q[col + r] -= p[r] * bv;
                }
            }
        }

        for (var i = 0; i < n; i++)
        {
            d[i] = m[(i * n) + i];
        }

        if (n >= 2)
        {
            e[n - 2] = m[((n - 1) * n) + n - 2];
        }

        e[n - 1] = 0;
    }

    /// <summary>Diagonalises the symmetric tridiagonal (d, e) by QL sweeps with Wilkinson-style shifts, chasing the
    /// bulge with Givens rotations that are also applied to the columns of <paramref name="z"/>.</summary>
    private static bool TryImplicitQl(int n, double[] d, double[] e, double[] z)
    {
        for (var l = 0; l < n; l++)
        {
            var iterations = 0;
            while (true)
            {
                var m = l;
                while (m < n - 1)
                {
                    var dd = Math.Abs(d[m]) + Math.Abs(d[m + 1]);
                    if (Math.Abs(e[m]) <= MachineEpsilon * dd)
                    {
                        break;
                    }

                    m++;
                }

                if (m == l)
                {
                    break;
                }

                if (++iterations > MaxQlIterationsPerValue)
                {
                    return false;
                }

                // Shift from the leading 2×2 block, written to avoid cancellation.
                var g = (d[l + 1] - d[l]) / (2 * e[l]);
                var r = double.Hypot(g, 1);
                g = d[m] - d[l] + (e[l] / (g + (g >= 0 ? r : -r)));
                double s = 1, c = 1, shift = 0;
                var deflated = false;
                for (var i = m - 1; i >= l; i--)
                {
                    var f = s * e[i];
                    var b = c * e[i];
                    r = double.Hypot(f, g);
                    e[i + 1] = r;
                    if (r == 0)
                    {
                        // An off-diagonal underflowed: the matrix splits here; restart the sweep.
                        d[i + 1] -= shift;
                        e[m] = 0;
                        deflated = true;
                        break;
                    }

                    s = f / r;
                    c = g / r;
                    g = d[i + 1] - shift;
                    r = ((d[i] - g) * s) + (2 * c * b);
                    shift = s * r;
                    d[i + 1] = g + shift;
                    g = (c * r) - b;
                    Rotate(z, n, i, s, c);
                }

                if (deflated)
                {
                    continue;
                }

                d[l] -= shift;
                e[l] = g;
                e[m] = 0;
            }
        }

        return true;
    }

    private static void Rotate(double[] z, int n, int i, double s, double c)
    {
        var a = i * n;
        var b = (i + 1) * n;
        for (var k = 0; k < n; k++)
        {
            var zi = z[a + k];
            var zj = z[b + k];
            z[b + k] = (s * zi) + (c * zj);
            z[a + k] = (c * zi) - (s * zj);
        }
    }

    /// <summary>Stable insertion sort of the eigenpairs by value, largest first.</summary>
    private static void SortDescending(int n, double[] d, double[] z, double[] values, double[] vectors)
    {
        var order = new int[n];
        for (var i = 0; i < n; i++)
        {
            order[i] = i;
            var j = i;
            while (j > 0 && d[order[j - 1]] < d[i])
            {
                order[j] = order[j - 1];
                j--;
            }

            order[j] = i;
        }

        for (var i = 0; i < n; i++)
        {
            values[i] = d[order[i]];
            Array.Copy(z, order[i] * n, vectors, i * n, n);
        }
    }
}
