using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace AnomalyZT.Silo.Samples;

// Shared time constants, the line buffer every source writes into, and formatting and random helpers.
public static partial class SampleGenerator
{
    private const long TicksPerMicro = 10;
    private const long SecondMicros = 1_000_000;
    private const long MinuteMicros = 60 * SecondMicros;
    private const long BucketMicros = 10 * MinuteMicros;
    private const long HourMicros = 60 * MinuteMicros;
    private const int BucketsPerHour = 6;
    private const string Alphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private const string LowerAlphanumeric = "bcdfghjklmnpqrstvwxz2456789";

    private static DateTime UtcTime(long us) => new(DateTime.UnixEpoch.Ticks + us * TicksPerMicro, DateTimeKind.Utc);

    private static DateTimeOffset Offset(long us) => new(UtcTime(us));

    /// <summary>RFC 3339 with milliseconds: <c>2026-11-20T00:03:12.345Z</c>.</summary>
    private static string IsoMillis(long us) => UtcTime(us).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>RFC 3339 with microseconds, as the Kubernetes audit log writes it.</summary>
    private static string IsoMicros(long us) => UtcTime(us).ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);

    /// <summary>RFC 3339 to the second.</summary>
    private static string IsoSeconds(long us) => UtcTime(us).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Hour of day (UTC) with fraction, 0 ≤ h &lt; 24.</summary>
    private static double HourOfDay(long us) => (double)(((us % (24 * HourMicros)) + 24 * HourMicros) % (24 * HourMicros)) / HourMicros;

    /// <summary>The daily load cycle: 1 ± <paramref name="amplitude"/>, lowest at 03:00 and highest at 15:00 UTC.</summary>
    private static double Diurnal(long us, double amplitude) => 1 + amplitude * Math.Sin(2 * Math.PI * (HourOfDay(us) - 9) / 24);

    /// <summary>A standard normal draw (Box–Muller).</summary>
    private static double Gaussian(Random rng)
    {
        var u1 = 1.0 - rng.NextDouble();
        var u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary><paramref name="mean"/> with relative noise <paramref name="relativeSd"/>, never below a fifth of the mean.</summary>
    private static long Noisy(Random rng, double mean, double relativeSd) =>
        (long)Math.Round(mean * Math.Max(0.2, 1 + relativeSd * Math.Clamp(Gaussian(rng), -3, 3)));

    /// <summary>A random version-4 UUID from <paramref name="rng"/>.</summary>
    private static string Uuid(Random rng)
    {
        Span<byte> bytes = stackalloc byte[16];
        rng.NextBytes(bytes);
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes).ToString("D", CultureInfo.InvariantCulture);
    }

    /// <summary><paramref name="length"/> characters of <paramref name="alphabet"/>.</summary>
    private static string Token(Random rng, string alphabet, int length)
    {
        Span<char> chars = stackalloc char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = alphabet[rng.Next(alphabet.Length)];
        }

        return new string(chars);
    }

    /// <summary>A Kubernetes-style name suffix (<c>7f9c4</c>).</summary>
    private static string KubeSuffix(Random rng, int length) => Token(rng, LowerAlphanumeric, length);

    /// <summary>An ephemeral client port.</summary>
    private static int EphemeralPort(Random rng) => rng.Next(32768, 61000);

    /// <summary>The first <c>items.Length</c> calls walk the items in order (so a fixed set is used up early and
    /// nothing is first seen later), then picks are random.</summary>
    private static T Cycle<T>(Random rng, T[] items, ref int cursor) =>
        cursor < items.Length ? items[cursor++] : items[rng.Next(items.Length)];

    /// <summary>One output line and its event time.</summary>
    private readonly record struct Line(long Micros, int Seq, string Text);

    /// <summary>Collects one file's lines, then writes them in event-time order (ties in emission order).</summary>
    private sealed class LineBuffer : IDisposable
    {
        private static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);
        private readonly List<Line> _lines = [];
        private readonly ArrayBufferWriter<byte> _bytes = new(2048);
        private readonly Utf8JsonWriter _json;
        private int _seq;

        public LineBuffer() => _json = new Utf8JsonWriter(_bytes, JsonOptions);

        public void Add(long us, string text) => _lines.Add(new Line(us, _seq++, text));

        /// <summary>A writer for one JSON line; finish it with <see cref="EndJson"/>.</summary>
        public Utf8JsonWriter BeginJson()
        {
            _bytes.ResetWrittenCount();
            _json.Reset(_bytes);
            return _json;
        }

        public void EndJson(long us)
        {
            _json.Flush();
            Add(us, Utf8.GetString(_bytes.WrittenSpan));
        }

        public void WriteTo(string path, string? header, string? footer)
        {
            _lines.Sort(static (a, b) => a.Micros != b.Micros ? a.Micros.CompareTo(b.Micros) : a.Seq.CompareTo(b.Seq));
            using (var writer = new StreamWriter(path, append: false, Utf8, bufferSize: 1 << 16))
            {
                writer.NewLine = "\n";
                if (header is not null)
                {
                    writer.Write(header);
                }

                foreach (var line in _lines)
                {
                    writer.Write(line.Text);
                    writer.Write('\n');
                }

                if (footer is not null)
                {
                    writer.Write(footer);
                }
            }

            _lines.Clear();
            _seq = 0;
        }

        public void Dispose() => _json.Dispose();
    }
}
