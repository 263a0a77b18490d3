using AnomalyZT.Grains.Detectors.TimeSeries;

namespace AnomalyZT.Tests.Detectors;

public sealed class SsaStreamTests
{
    private const int N = SsaSpikeDetector.DefaultTrainingWindowSize;

    [Fact]
    public void Update_Streamed_MatchesRunAfterWarmup()
    {
        var x = SsaSeries.Sine(260, 10, 1, 0.2, seed: 21);
        x[40] = double.NaN;
        x[170] += 6;
        var spikeBatch = SsaSpikeDetector.Run(x);
        var changeBatch = SsaChangePointDetector.Run(x);

        var spike = new SsaSpikeDetector();
        var change = new SsaChangePointDetector();
        var spanned = new SsaSpikeDetector();
        var buffer = new TimeSeriesOutput[N];
        var collected = new List<TimeSeriesOutput>();
        // Spec §3: training uses the first N non-NaN rows, so with a NaN at row 40 the model trains at row N.
        for (var t = 0; t < x.Length; t++)
        {
            var s = spike.Update(x[t]);
            var c = change.Update(x[t]);
            var written = spanned.Update(x[t], buffer);
            collected.AddRange(buffer[..written]);
            if (t < N)
            {
                Assert.Equal(TimeSeriesOutput.Missing, s);
                Assert.Equal(TimeSeriesOutput.Missing, c);
                Assert.Equal(t == 40 ? 1 : 0, written); // a NaN row's output (Missing) is known at once
                Assert.False(spike.IsTrained);
            }
            else
            {
                Assert.Equal(spikeBatch[t], s);
                Assert.Equal(changeBatch[t], c);
                Assert.Equal(t == N ? N : 1, written);
                Assert.True(spike.IsTrained);
            }
        }

        // Streaming order: the NaN row's output first, then the N training rows, then one row at a time.
        var expected = new List<TimeSeriesOutput> { spikeBatch[40] };
        expected.AddRange(spikeBatch[..40]);
        expected.AddRange(spikeBatch[41..]);
        Assert.Equal(expected.ToArray(), collected.ToArray());
        Assert.True(spikeBatch[170].Alert);
        Assert.Equal(TimeSeriesOutput.Missing, spikeBatch[40]);
    }

    [Fact]
    public void Run_NaNAnywhere_OutputsIdenticalToRunWithoutIt()
    {
        // NaN rows are skipped everywhere, including during warm-up (spec §3: the first N non-NaN rows train).
        var clean = SsaSeries.Sine(300, 10, 1, 0.1, seed: 8);
        clean[220] += 5;
        var withNaN = new List<double>(clean);
        withNaN.Insert(260, double.NaN);
        withNaN.Insert(200, double.NaN);
        withNaN.Insert(150, double.NaN);
        withNaN.Insert(150, double.NaN);
        withNaN.Insert(30, double.NaN);
        withNaN.Insert(0, double.NaN);

        var spikes = SsaSpikeDetector.Run(clean);
        Assert.True(spikes[220].Alert, "the comparison should cover an alert");
        AssertSkipsNaN(spikes, SsaSpikeDetector.Run(withNaN.ToArray()), withNaN);
        AssertSkipsNaN(SsaChangePointDetector.Run(clean), SsaChangePointDetector.Run(withNaN.ToArray()), withNaN);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(37)]
    [InlineData(N - 1)]
    [InlineData(N)]
    [InlineData(N + 3)]
    [InlineData(211)]
    public void WriteRead_MidStream_SubsequentOutputsIdentical(int cut)
    {
        var x = SsaSeries.Sine(300, 10, 1, 0.3, seed: 99);
        x[250] += 8;
        x[cut + 2] = double.NaN;

        var spike = new SsaSpikeDetector();
        var change = new SsaChangePointDetector();
        for (var t = 0; t < cut; t++)
        {
            spike.Update(x[t]);
            change.Update(x[t]);
        }

        var spikeCopy = new SsaSpikeDetector();
        var changeCopy = new SsaChangePointDetector();
        spikeCopy.Read(Reader(spike.Write));
        changeCopy.Read(Reader(change.Write));

        var alerts = 0;
        for (var t = cut; t < x.Length; t++)
        {
            var expected = spike.Update(x[t]);
            Assert.Equal(Bits(expected), Bits(spikeCopy.Update(x[t])));
            Assert.Equal(Bits(change.Update(x[t])), Bits(changeCopy.Update(x[t])));
            alerts += expected.Alert ? 1 : 0;
        }

        Assert.True(alerts > 0, "the spike at 250 should be flagged, so the comparison covers an alert");
    }

    [Fact]
    public void Read_StateOfLargerWindowOrWrongVersion_Throws()
    {
        var wide = new SsaSpikeDetector(seasonalityWindowSize: 20);
        foreach (var v in SsaSeries.Sine(120, 10, 1, 0.1, seed: 5))
        {
            wide.Update(v);
        }

        var narrow = new SsaSpikeDetector(seasonalityWindowSize: 10);
        var ex = Assert.Throws<InvalidDataException>(() => narrow.Read(Reader(wide.Write)));
        Assert.Contains("window", ex.Message, StringComparison.Ordinal);

        var change = new SsaChangePointDetector();
        Assert.Throws<InvalidDataException>(() => change.Read(new BinaryReader(new MemoryStream([9, 0, 0]))));
    }

    [Fact]
    public void Update_OutputSpanTooShortForTrainingRows_ThrowsWithoutConsuming()
    {
        var detector = new SsaSpikeDetector(trainingWindowSize: 30, seasonalityWindowSize: 5);
        var buffer = new TimeSeriesOutput[30];
        for (var t = 0; t < 29; t++)
        {
            Assert.Equal(0, detector.Update(t % 5, Span<TimeSeriesOutput>.Empty));
        }

        Assert.Throws<ArgumentException>(() => detector.Update(4, buffer.AsSpan(0, 29)));
        Assert.False(detector.IsTrained);
        Assert.Equal(30, detector.Update(4, buffer));
        Assert.True(detector.IsTrained);
        Assert.Throws<ArgumentException>(() => detector.Update(0, Span<TimeSeriesOutput>.Empty));
    }

    private static void AssertSkipsNaN(TimeSeriesOutput[] clean, TimeSeriesOutput[] withNaN, List<double> input)
    {
        var j = 0;
        for (var i = 0; i < withNaN.Length; i++)
        {
            if (double.IsNaN(input[i]))
            {
                Assert.Equal(TimeSeriesOutput.Missing, withNaN[i]);
                continue;
            }

            Assert.Equal(Bits(clean[j]), Bits(withNaN[i]));
            j++;
        }

        Assert.Equal(clean.Length, j);
    }

    private static BinaryReader Reader(Action<BinaryWriter> write)
    {
        var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            write(w);
        }

        ms.Position = 0;
        return new BinaryReader(ms);
    }

    private static (bool, long, long, long) Bits(TimeSeriesOutput o) =>
        (o.Alert, BitConverter.DoubleToInt64Bits(o.RawScore), BitConverter.DoubleToInt64Bits(o.PValue), BitConverter.DoubleToInt64Bits(o.MartingaleValue));
}
