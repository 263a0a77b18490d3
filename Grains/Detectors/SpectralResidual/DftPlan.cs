using System.Numerics;

namespace AnomalyZT.Grains.Detectors.SpectralResidual;

/// <summary>
/// Twiddle tables and scratch buffers for discrete Fourier transforms of one fixed length; pass it to
/// <see cref="Dft.Forward"/> and <see cref="Dft.Inverse"/>.
/// </summary>
/// <remarks>
/// Power-of-two lengths run an in-place iterative radix-2 Cooley–Tukey FFT. Other lengths use Bluestein's
/// chirp-z identity: the DFT becomes a circular convolution of power-of-two length m ≥ 2n−1, done with the
/// same radix-2 code, so every length costs O(n log n). All tables are built here, once; a transform
/// allocates nothing. A plan owns mutable scratch, so it must not be shared between threads that transform
/// at the same time.
/// </remarks>
public sealed partial class DftPlan
{
    private readonly int _fftLength;
    private readonly double[] _cos;
    private readonly double[] _sin;
    private readonly int[] _bitReverse;

    // Bluestein only (empty for powers of two): chirp w_k = exp(−iπk²/n), the spectrum of the conjugate
    // chirp kernel (already divided by m, so the inverse FFT needs no scaling), and two work rows.
    private readonly double[] _chirpRe;
    private readonly double[] _chirpIm;
    private readonly double[] _kernelRe;
    private readonly double[] _kernelIm;
    private readonly double[] _workRe;
    private readonly double[] _workIm;

    /// <summary>Builds the tables for transforms of <paramref name="length"/> points.</summary>
    /// <param name="length">Transform length, at least 1 and at most 2^29.</param>
    /// <exception cref="ArgumentOutOfRangeException">The length is outside [1, 2^29].</exception>
    public DftPlan(int length)
    {
        if (length < 1 || length > MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(length), length, $"length is {length}; length must be in [1, {MaxLength}].");
        }

        Length = length;
        IsPowerOfTwo = BitOperations.IsPow2(length);
        _fftLength = IsPowerOfTwo ? length : (int)BitOperations.RoundUpToPowerOf2((uint)(2 * length - 1));
        (_cos, _sin, _bitReverse) = Radix2Tables(_fftLength);
        if (IsPowerOfTwo)
        {
            _chirpRe = _chirpIm = _kernelRe = _kernelIm = _workRe = _workIm = [];
            return;
        }

        _chirpRe = new double[length];
        _chirpIm = new double[length];
        _kernelRe = new double[_fftLength];
        _kernelIm = new double[_fftLength];
        _workRe = new double[_fftLength];
        _workIm = new double[_fftLength];
        var twoN = 2L * length;
        for (var k = 0; k < length; k++)
        {
            // k² mod 2n keeps the angle small, so the chirp stays accurate for large k.
            var angle = Math.PI * ((long)k * k % twoN) / length;
            _chirpRe[k] = Math.Cos(angle);
            _chirpIm[k] = -Math.Sin(angle);
        }

        var scale = 1.0 / _fftLength;
        _kernelRe[0] = _chirpRe[0] * scale;
        _kernelIm[0] = -_chirpIm[0] * scale;
        for (var k = 1; k < length; k++)
        {
            _kernelRe[k] = _kernelRe[_fftLength - k] = _chirpRe[k] * scale;
            _kernelIm[k] = _kernelIm[_fftLength - k] = -_chirpIm[k] * scale;
        }

        Radix2(_kernelRe, _kernelIm, inverse: false);
    }

    /// <summary>Largest supported length (the Bluestein row is a power of two no larger than 2^30).</summary>
    public const int MaxLength = 1 << 29;

    /// <summary>Number of points each transform takes and returns.</summary>
    public int Length { get; }

    /// <summary>True when <see cref="Length"/> is a power of two (plain radix-2, no chirp).</summary>
    public bool IsPowerOfTwo { get; }

    /// <summary>Unnormalised forward DFT in place: X_k = Σ_j x_j·exp(−2πi·jk/n).</summary>
    internal void Forward(Span<double> re, Span<double> im)
    {
        if (IsPowerOfTwo)
        {
            Radix2(re, im, inverse: false);
        }
        else
        {
            Bluestein(re, im);
        }
    }

    /// <summary>Inverse DFT in place, normalised by 1/n so that it undoes <see cref="Forward"/>.</summary>
    internal void Inverse(Span<double> re, Span<double> im)
    {
        if (IsPowerOfTwo)
        {
            Radix2(re, im, inverse: true);
        }
        else
        {
            // IDFT(x) = conj(DFT(conj(x))) / n.
            Negate(im);
            Bluestein(re, im);
            Negate(im);
        }

        var scale = 1.0 / Length;
        for (var i = 0; i < re.Length; i++)
        {
            re[i] *= scale;
            im[i] *= scale;
        }
    }

    private void Bluestein(Span<double> re, Span<double> im)
    {
        var n = Length;
        var wr = _workRe.AsSpan();
        var wi = _workIm.AsSpan();
        for (var k = 0; k < n; k++)
        {
            var cr = _chirpRe[k];
            var ci = _chirpIm[k];
            wr[k] = re[k] * cr - im[k] * ci;
            wi[k] = re[k] * ci + im[k] * cr;
        }

        wr[n..].Clear();
        wi[n..].Clear();
        Radix2(wr, wi, inverse: false);
        for (var k = 0; k < wr.Length; k++)
        {
            var ar = wr[k];
            var ai = wi[k];
            var br = _kernelRe[k];
            var bi = _kernelIm[k];
            wr[k] = ar * br - ai * bi;
            wi[k] = ar * bi + ai * br;
        }

        Radix2(wr, wi, inverse: true);
        for (var k = 0; k < n; k++)
        {
            var cr = _chirpRe[k];
            var ci = _chirpIm[k];
            re[k] = wr[k] * cr - wi[k] * ci;
            im[k] = wr[k] * ci + wi[k] * cr;
        }
    }

    private static void Negate(Span<double> values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = -values[i];
        }
    }
}
