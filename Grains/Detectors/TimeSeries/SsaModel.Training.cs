namespace AnomalyZT.Grains.Detectors.TimeSeries;

public sealed partial class SsaModel
{
    // (analysis) A rank whose eigenvectors' last components carry (almost) all their weight has ν² → 1 and an
    // unbounded α; such ranks are skipped. The reference only guards ν² = 1 exactly via the unit-component retrain.
    private const double MinOneMinusNu2 = 1e-12;

    /// <summary>Trains on the first <see cref="TrainingWindowSize"/> values of <paramref name="series"/> (fewer if it is
    /// shorter), replacing any previous model and state. Non-finite values are dropped first; if 2L or fewer remain the
    /// model stays untrained and forecasts 0. O(L²K + L³ + maxRank·(L·K + E·L)) time, allocates.</summary>
    /// <remarks>
    /// Steps (detectors-spec §3): eigen-decompose XXᵀ (falling back to the naive rank-1 model, U₁ = 𝟏/√L, when that fails);
    /// while an eigenvector's last component is exactly ±1, shrink L by one and redo it; then, for r = 1..⌊L/2⌋, form
    /// α_r = Σ_{i≤r} π_i U_i^∇ / (1 − ν²_r), reconstruct x̃_r by diagonal averaging, μ_r = mean(x − x̃_r), and score a free
    /// multi-step forecast (seeded with x̃_r, forecasts fed back) over the last E = min(max(L, 200), K) points by Σ|x − ŷ|,
    /// stopping early once it exceeds the best; r* is the first minimum.
    /// </remarks>
    public void Train(ReadOnlySpan<double> series)
    {
        Untrain();
        var take = Math.Min(series.Length, TrainingWindowSize);
        var clean = new double[take];
        var n = 0;
        foreach (var v in series[..take])
        {
            if (double.IsFinite(v))
            {
                clean[n++] = v;
            }
        }

        if (n <= 2 * SeasonalityWindowSize)
        {
            return;
        }

        Fit(clean.AsSpan(0, n), SeasonalityWindowSize);
    }

    private void Fit(ReadOnlySpan<double> x, int windowSize)
    {
        var l = windowSize;
        while (true)
        {
            var k = x.Length - l + 1;
            var gram = LagCovariance(x, l, k);
            var values = new double[l];
            var vectors = new double[l * l];
            if (!TryDecomposeSymmetric(gram, l, values, vectors))
            {
                InstallNaive(x, l);
                return;
            }

            if (HasUnitLastComponent(vectors, l))
            {
                if (l > 2)
                {
                    l--;
                    continue;
                }

                InstallNaive(x, l);
                return;
            }

            var alpha = new double[l - 1];
            var rank = SelectRank(x, l, vectors, alpha);
            if (rank == 0)
            {
                InstallNaive(x, l);
                return;
            }

            Install(l, rank, vectors, alpha, x);
            return;
        }
    }

    /// <summary>XXᵀ of the L×K Hankel matrix X[i, j] = x[i + j], row-major.</summary>
    private static double[] LagCovariance(ReadOnlySpan<double> x, int l, int k)
    {
        var c = new double[l * l];
        for (var i = 0; i < l; i++)
        {
            for (var j = i; j < l; j++)
            {
                var a = x.Slice(i, k);
                var b = x.Slice(j, k);
                var acc = 0.0;
                for (var t = 0; t < k; t++)
                {
                    acc += a[t] * b[t];
                }

                c[(i * l) + j] = acc;
                c[(j * l) + i] = acc;
            }
        }

        return c;
    }

    private static bool HasUnitLastComponent(double[] vectors, int l)
    {
        for (var i = 0; i < l; i++)
        {
            if (Math.Abs(vectors[(i * l) + l - 1]) == 1.0)
            {
                return true;
            }
        }

        return false;
    }

    private void InstallNaive(ReadOnlySpan<double> x, int l)
    {
        var u = new double[l];
        Array.Fill(u, 1 / Math.Sqrt(l));
        var pi = u[l - 1];
        var denom = 1 - (pi * pi);
        var alpha = new double[l - 1];
        for (var j = 0; j < l - 1; j++)
        {
            alpha[j] = pi * u[j] / denom;
        }

        Install(l, 1, u, alpha, x);
    }

    /// <summary>Returns r* (0 if no rank gives a finite score) and writes α_{r*} into <paramref name="bestAlpha"/>.</summary>
    private static int SelectRank(ReadOnlySpan<double> x, int l, double[] vectors, double[] bestAlpha)
    {
        var n = x.Length;
        var k = n - l + 1;
        var lag = l - 1;
        var maxRank = Math.Max(1, l / 2);
        var horizon = Math.Min(Math.Max(l, 200), k);
        var reconstruction = new double[n];
        var numerator = new double[lag];
        var alpha = new double[lag];
        var coefficients = new double[k];
        var window = new double[lag];
        var nu2 = 0.0;
        var best = double.PositiveInfinity;
        var bestRank = 0;
        for (var r = 1; r <= maxRank; r++)
        {
            var u = vectors.AsSpan((r - 1) * l, l);
            var pi = u[lag];
            nu2 += pi * pi;
            for (var j = 0; j < lag; j++)
            {
                numerator[j] += pi * u[j];
            }

            // Add this component's rank-one part U_r·(U_rᵀX) to the antidiagonal sums.
            for (var j = 0; j < k; j++)
            {
                var acc = 0.0;
                for (var i = 0; i < l; i++)
                {
                    acc += u[i] * x[i + j];
                }

                coefficients[j] = acc;
            }

            for (var j = 0; j < k; j++)
            {
                var cj = coefficients[j];
                for (var i = 0; i < l; i++)
                {
                    reconstruction[i + j] += u[i] * cj;
                }
            }

            var denom = 1 - nu2;
            if (!(denom > MinOneMinusNu2))
            {
                continue;
            }

            for (var j = 0; j < lag; j++)
            {
                alpha[j] = numerator[j] / denom;
            }

            var mean = 0.0;
            for (var t = 0; t < n; t++)
            {
                mean += x[t] - (reconstruction[t] / AntidiagonalLength(t, l, k));
            }

            mean /= n;
            var score = FreeForecastError(x, reconstruction, alpha, mean, l, k, horizon, best, window);
            if (score < best)
            {
                best = score;
                bestRank = r;
                Array.Copy(alpha, bestAlpha, lag);
            }
        }

        return bestRank;
    }

    /// <summary>Σ|x_t − ŷ_t| over the last <paramref name="horizon"/> points of a free forecast: the window starts as the
    /// reconstruction just before them, each ŷ = α·window + μ, and ŷ is fed back (spec §3 step 3: "feeding forecasts
    /// back in").</summary>
    private static double FreeForecastError(
        ReadOnlySpan<double> x, double[] reconstruction, double[] alpha, double mean, int l, int k, int horizon, double best, double[] window)
    {
        var n = x.Length;
        var lag = l - 1;
        var start = n - horizon;
        for (var j = 0; j < lag; j++)
        {
            var t = start - lag + j;
            window[j] = reconstruction[t] / AntidiagonalLength(t, l, k);
        }

        var head = 0;
        var score = 0.0;
        for (var t = start; t < n; t++)
        {
            var signal = 0.0;
            var slot = head;
            for (var j = 0; j < lag; j++)
            {
                signal += alpha[j] * window[slot];
                slot = slot + 1 == lag ? 0 : slot + 1;
            }

            score += Math.Abs(x[t] - (signal + mean));
            if (!(score <= best))
            {
                // Past the best already (or not finite): this rank cannot win.
                return double.PositiveInfinity;
            }

            window[head] = signal + mean;
            head = head + 1 == lag ? 0 : head + 1;
        }

        return score;
    }

    /// <summary>How many cells of the L×K Hankel matrix lie on antidiagonal t (i + j = t).</summary>
    private static int AntidiagonalLength(int t, int l, int k) => Math.Min(t, l - 1) - Math.Max(0, t - k + 1) + 1;
}
