using System.Buffers;
using System.Text;
using AnomalyZT.Ingest.Syslog;

namespace AnomalyZT.Tests.Ingest.Syslog;

public sealed class SyslogFramingTests
{
    private const string M1 = "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed";
    private const string M2 = "<13>Nov 22 13:59:22 web01 sshd[42]: Accepted publickey for alice from 10.0.0.1 port 22 ssh2";

    private static string Counted(string m) => $"{Encoding.UTF8.GetByteCount(m)} {m}";

    [Fact]
    public void TryRead_OctetCounting_SplitsFramesAndDetectsMode()
    {
        var framer = new SyslogFraming();
        var stream = Encoding.UTF8.GetBytes(Counted(M1) + Counted(M2) + Counted("<1>x y\nz"));

        var frames = FramingHarness.Run(framer, stream, [stream.Length]);

        Assert.Equal([M1, M2, "<1>x y\nz"], frames);
        Assert.Equal(SyslogFramingMode.OctetCounting, framer.Mode);
        Assert.Equal(3, framer.Messages);
    }

    [Fact]
    public void TryRead_LineFeed_SplitsLinesTrimsCrAndSkipsBlankLines()
    {
        var framer = new SyslogFraming();
        var stream = Encoding.UTF8.GetBytes(M1 + "\r\n\n" + M2 + "\n<5>last");

        var frames = FramingHarness.Run(framer, stream, [stream.Length]);

        Assert.Equal([M1, M2, "<5>last"], frames);
        Assert.Equal(SyslogFramingMode.LineFeed, framer.Mode);
    }

    [Fact]
    public void TryRead_OctetCountingWithTrailingLf_IgnoresTrailers()
    {
        var stream = Encoding.UTF8.GetBytes(Counted(M1) + "\n" + Counted(M2) + "\r\n");

        var frames = FramingHarness.Run(new SyslogFraming(), stream, [stream.Length]);

        Assert.Equal([M1, M2], frames);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TryRead_SplitAtEveryByteBoundary_SameFrames(bool counted)
    {
        var text = counted
            ? Counted(M1) + Counted(M2) + Counted("<0>\u00e9\u00e9")
            : M1 + "\n" + M2 + "\r\n<0>\u00e9\u00e9\n";
        var stream = Encoding.UTF8.GetBytes(text);
        var expected = FramingHarness.Run(new SyslogFraming(), stream, [stream.Length]);
        Assert.Equal(3, expected.Count);

        for (var cut = 1; cut < stream.Length; cut++)
        {
            Assert.Equal(expected, FramingHarness.Run(new SyslogFraming(), stream, [cut, stream.Length]));

            // The same split as a two-segment sequence handed over at once.
            var framer = new SyslogFraming();
            var buffer = TwoSegments(stream, cut);
            var frames = new List<string>();
            while (framer.TryRead(ref buffer, true, out var frame))
            {
                frames.Add(Encoding.UTF8.GetString(frame.Payload));
            }

            Assert.Equal(expected, frames);
        }

        Assert.Equal(expected, FramingHarness.Run(new SyslogFraming(), stream, Enumerable.Repeat(1, stream.Length)));
    }

    [Fact]
    public void TryRead_OversizedCountedFrame_RejectedSkippedAndNextFrameRead()
    {
        var big = "<1>" + new string('a', 300);
        var stream = Encoding.UTF8.GetBytes(Counted(M2) + Counted(big) + Counted(M2));
        var framer = new SyslogFraming(maxMessageSize: 200);

        var frames = FramingHarness.Run(framer, stream, Enumerable.Repeat(7, 1000));

        Assert.Equal([M2, "!frame of 303 bytes exceeds 200", M2], frames);
        Assert.Equal(303, framer.DiscardedBytes - "303 ".Length);
    }

    [Fact]
    public void TryRead_OversizedLine_RejectedOnceAndResyncsAtNextLf()
    {
        var stream = Encoding.UTF8.GetBytes("<1>" + new string('a', 1000) + "\n" + M2 + "\n");
        var framer = new SyslogFraming(maxMessageSize: 200);

        var frames = FramingHarness.Run(framer, stream, Enumerable.Repeat(50, 1000));

        Assert.Equal(2, frames.Count);
        Assert.StartsWith("!message longer than 200", frames[0], StringComparison.Ordinal);
        Assert.Equal(M2, frames[1]);
    }

    [Fact]
    public void TryRead_BadOctetHeader_RejectedAndResyncsOnNextHeader()
    {
        var stream = Encoding.UTF8.GetBytes(Counted(M2) + "12x garbage 0 <junk " + Counted(M1));
        var framer = new SyslogFraming();

        var frames = FramingHarness.Run(framer, stream, [5, 9, 3]);

        Assert.Equal([M2, "!invalid octet-counting header", M1], frames);
    }

    [Fact]
    public void TryRead_TruncatedCountedFrameAtEnd_Rejected()
    {
        var stream = Encoding.UTF8.GetBytes(Counted(M2) + "500 <1>short");

        var frames = FramingHarness.Run(new SyslogFraming(), stream, [stream.Length]);

        Assert.Equal([M2, "!stream ended inside a frame of 500 bytes"], frames);
    }

    [Fact]
    public void TryRead_LongLineInSmallChunks_ReassembledWhole()
    {
        // The framer resumes its LF search where it stopped instead of rescanning the pending bytes.
        var framer = new SyslogFraming(maxMessageSize: 100_000);
        var line = "<1>" + new string('b', 90_000) + "\n";
        var frames = FramingHarness.Run(framer, Encoding.ASCII.GetBytes(line), Enumerable.Repeat(997, 100));

        Assert.Single(frames);
        Assert.Equal(line.Length - 1, frames[0].Length);
    }

    private static ReadOnlySequence<byte> TwoSegments(byte[] data, int cut)
    {
        var first = new Segment(data.AsMemory(0, cut), 0);
        var second = first.Append(data.AsMemory(cut));
        return new ReadOnlySequence<byte>(first, 0, second, second.Memory.Length);
    }
}
