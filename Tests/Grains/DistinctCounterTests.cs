using AnomalyZT.Grains.Detectors;

namespace AnomalyZT.Tests.Grains;

public sealed class DistinctCounterTests
{
    [Fact]
    public void Count_UpTo256_IsExactAndIgnoresRepeats()
    {
        var c = new DistinctCounter();
        for (var round = 0; round < 3; round++)
        {
            for (ulong i = 0; i < 256; i++)
            {
                c.Add(i * 7919);
            }
        }

        Assert.Equal(256, c.Count);
    }

    [Theory]
    [InlineData(1_000)]
    [InlineData(20_000)]
    [InlineData(300_000)]
    public void Count_Large_WithinFivePercent(int n)
    {
        var c = new DistinctCounter();
        for (var i = 0; i < n; i++)
        {
            c.Add(AnomalyZT.Grains.Interfaces.StableHashing.Fnv1a64("10.0." + (i / 256) + "." + (i % 256)));
        }

        Assert.InRange(c.Count, n * 0.95, n * 1.05);
    }

    [Fact]
    public void WriteRead_RoundTrip_SameCountAndSameFutureCounts()
    {
        foreach (var n in new[] { 100, 5000 })
        {
            var a = new DistinctCounter();
            for (var i = 0; i < n; i++)
            {
                a.Add((ulong)i * 104729UL);
            }

            using var stream = new MemoryStream();
            using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
            {
                a.Write(w);
            }

            stream.Position = 0;
            var b = new DistinctCounter();
            using (var r = new BinaryReader(stream))
            {
                b.Read(r);
            }

            Assert.Equal(a.Count, b.Count);
            for (var i = n; i < n + 500; i++)
            {
                a.Add((ulong)i * 104729UL);
                b.Add((ulong)i * 104729UL);
            }

            Assert.Equal(a.Count, b.Count);
        }
    }

    [Fact]
    public void Clear_ResetsToExactMode()
    {
        var c = new DistinctCounter();
        for (ulong i = 0; i < 1000; i++)
        {
            c.Add(i);
        }

        c.Clear();
        c.Add(1);
        c.Add(1);
        Assert.Equal(1, c.Count);
    }
}
