namespace AnomalyZT.Grains.Detectors.SpectralResidual;

/// <content>Radix-2 Cooley–Tukey core, shared by power-of-two plans and Bluestein's convolution.</content>
public sealed partial class DftPlan
{
    private static (double[] Cos, double[] Sin, int[] BitReverse) Radix2Tables(int m)
    {
        var half = Math.Max(1, m / 2);
        var cos = new double[half];
        var sin = new double[half];
        for (var k = 0; k < half; k++)
        {
            // Each twiddle straight from Math.Cos/Sin: a recurrence would drift by O(m·ε).
            var angle = 2 * Math.PI * k / m;
            cos[k] = Math.Cos(angle);
            sin[k] = Math.Sin(angle);
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
        var reverse = _bitReverse;
        for (var i = 0; i < m; i++)
        {
            var j = reverse[i];
            if (j > i)
            {
                (re[i], re[j]) = (re[j], re[i]);
                (im[i], im[j]) = (im[j], im[i]);
            }
        }

        var sign = inverse ? 1.0 : -1.0;
        for (var len = 2; len <= m; len <<= 1)
        {
            var half = len >> 1;
            var step = m / len;
            for (var start = 0; start < m; start += len)
            {
                for (int j = 0, t = 0; j < half; j++, t += step)
                {
                    var wr = _cos[t];
                    var wi = sign * _sin[t];
                    var a = start + j;
                    var b = a + half;
                    var xr = re[b] * wr - im[b] * wi;
                    var xi = re[b] * wi + im[b] * wr;
                    re[b] = re[a] - xr;
                    im[b] = im[a] - xi;
                    re[a] += xr;
                    im[a] += xi;
                }
            }
        }
    }
}
