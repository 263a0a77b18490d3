using AnomalyZT.Grains.Detectors;

namespace AnomalyZT.Tests.Grains;

public sealed class FirstSeenSetTests
{
    [Fact]
    public void Observe_NewThenKnown_ReportsOnlyFirstUse()
    {
        var s = new FirstSeenSet(4);
        Assert.True(s.Observe(1, 100));
        Assert.False(s.Observe(1, 200));
        Assert.True(s.Observe(2, 300));
        Assert.Equal(2, s.Count);
    }

    [Fact]
    public void Observe_AtCapacity_ForgetsLeastRecentlySeen()
    {
        var s = new FirstSeenSet(2);
        s.Observe(1, 100);
        s.Observe(2, 200);
        s.Observe(1, 300); // 1 is now the most recent
        Assert.True(s.Observe(3, 400)); // evicts 2
        Assert.False(s.Observe(1, 500));
        Assert.True(s.Observe(2, 600)); // 2 was forgotten: new again
    }

    [Fact]
    public void Observe_LargeSetFull_ForgetsOldestEighthAtOnce()
    {
        var s = new FirstSeenSet(16);
        for (var i = 0; i < 16; i++)
        {
            s.Observe((ulong)i, 100 + i);
        }

        Assert.True(s.Observe(99, 1000));
        Assert.Equal(15, s.Count); // 16 − 2 (the two oldest) + 1
        Assert.False(s.Observe(2, 1001)); // third oldest: still known
        Assert.True(s.Observe(0, 1002));  // oldest: forgotten (the set is full again after this)
    }

    [Fact]
    public void WriteRead_RoundTrip_EvictsExactlyAsOriginal()
    {
        var rng = new Random(3);
        var a = new FirstSeenSet(32);
        for (var i = 0; i < 200; i++)
        {
            a.Observe((ulong)rng.Next(64), rng.Next(10)); // many ties on time
        }

        using var stream = new MemoryStream();
        using (var w = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            a.Write(w);
        }

        stream.Position = 0;
        var b = new FirstSeenSet(32);
        using (var r = new BinaryReader(stream))
        {
            b.Read(r);
        }

        for (var i = 0; i < 500; i++)
        {
            var h = (ulong)rng.Next(96);
            var t = 10 + rng.Next(10);
            Assert.Equal(a.Observe(h, t), b.Observe(h, t));
        }
    }
}
