namespace AnomalyZT.Grains.Detectors.SpectralResidual;

/// <content>Radix-2 Cooley–Tukey core, shared by power-of-two plans and Bluestein's convolution.</content>
public sealed partial class DftPlan
{
    /// <summary>
    /// cos and sin of 2π·j/len (j &lt; len/2) for every stage len = 4, 8, …, m, stored stage after stage (stage len
    /// starts at len/2 − 2) so the butterfly loop reads them contiguously; and the bit-reversal permutation. The
    /// butterfly applies the exponent's sign.
    /// </summary>
    private static (double[] Cos, double[] Sin, int[] BitReverse) Radix2Tables(int m)
    {
        var cos = new double[Math.Max(0, m - 2)];
        var sin = new double[cos.Length];
        for (var len = 4; len <= m; len <<= 1)
        {
            var half = len / 2;
            for (var j = 0; j < half; j++)
            {
                // Each twiddle straight from Math.Cos/Sin: a recurrence would drift by O(m·ε).
                var angle = 2 * Math.PI * j / len;
                cos[half - 2 + j] = Math.Cos(angle);
                sin[half - 2 + j] = Math.Sin(angle);
            }
        }

        var bits = 0;
        while (1 << bits < m)
        {
            bits++;
        }

        var reverse = new int[m];
        for (var i = 0; i < m; i++)
        {
            var r = 0;
            for (var b = 0; b < bits; b++)
            {
                r |= ((i >> b) & 1) << (bits - 1 - b);
            }

            reverse[i] = r;
        }

        return (cos, sin, reverse);
    }

    /// <summary>Unnormalised in-place FFT of length <see cref="_fftLength"/>; the sign of the exponent is + when
    /// <paramref name="inverse"/>.</summary>
    private void Radix2(Span<double> re, Span<double> im, bool inverse)
    {
        var m = _fftLength;
        re = re[..m];
        im = im[..m];
        var reverse = _bitReverse.AsSpan(0, m);
        for (var i = 0; i < reverse.Length; i++)
        {
            var j = reverse[i];
            if (j > i)
            {
                (re[i], re[j]) = (re[j], re[i]);
                (im[i], im[j]) = (im[j], im[i]);
            }
        }

        // Length-2 butterflies need no twiddle.
        for (var a = 0; a + 1 < m; a += 2)
        {
            var (ar, ai, br, bi) = (re[a], im[a], re[a + 1], im[a + 1]);
            re[a] = ar + br;
            im[a] = ai + bi;
            re[a + 1] = ar - br;
            im[a + 1] = ai - bi;
        }

        var sign = inverse ? 1.0 : -1.0;
        for (var len = 4; len <= m; len <<= 1)
        {
            var half = len >> 1;
            var cos = _cos.AsSpan(half - 2, half);
            var sin = _sin.AsSpan(half - 2, half);
            for (var start = 0; start < m; start += len)
            {
                var lowRe = re.Slice(start, half);
                var lowIm = im.Slice(start, half);
                var highRe = re.Slice(start + half, half);
                var highIm = im.Slice(start + half, half);
                for (var j = 0; j < cos.Length; j++)
                {
                    var wr = cos[j];
                    var wi = sign * sin[j];
                    var xr = highRe[j] * wr - highIm[j] * wi;
                    var xi = highRe[j] * wi + highIm[j] * wr;
                    highRe[j] = lowRe[j] - xr;
                    highIm[j] = lowIm[j] - xi;
                    lowRe[j] += xr;
                    lowIm[j] += xi;
                }
            }
        }
    }
}
