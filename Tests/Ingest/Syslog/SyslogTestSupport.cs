using System.Buffers;
using System.Text;
using AnomalyZT.Ingest.Syslog;

namespace AnomalyZT.Tests.Ingest.Syslog;

/// <summary>A clock stopped at one instant.</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}

/// <summary>Feeds a framer the way a PipeReader loop would: chunks appended to an unconsumed buffer.</summary>
internal static class FramingHarness
{
    /// <summary>Frames <paramref name="stream"/> delivered in the given chunk sizes; returns each frame as text (or
    /// "!reason" for rejections). Asserts the buffering bound and that every true result consumed bytes.</summary>
    public static List<string> Run(SyslogFraming framer, byte[] stream, IEnumerable<int> chunkSizes, Action<ReadOnlySequence<byte>>? onMessage = null, Action<string>? onReject = null)
    {
        var frames = new List<string>();
        var pending = new List<byte>();
        var offset = 0;
        using var sizes = chunkSizes.GetEnumerator();
        while (true)
        {
            var completed = offset >= stream.Length;
            if (!completed)
            {
                var size = sizes.MoveNext() ? Math.Max(1, sizes.Current) : stream.Length - offset;
                size = Math.Min(size, stream.Length - offset);
                pending.AddRange(stream.AsSpan(offset, size));
                offset += size;
                completed = offset >= stream.Length;
            }

            var buffer = new ReadOnlySequence<byte>(pending.ToArray());
            var guard = 0;
            while (framer.TryRead(ref buffer, completed, out var frame))
            {
                if (++guard > stream.Length + 2)
                {
                    throw new InvalidOperationException("framer did not make progress");
                }

                if (frame.Kind == SyslogFrameKind.Message)
                {
                    frames.Add(Encoding.UTF8.GetString(frame.Payload));
                    onMessage?.Invoke(frame.Payload);
                }
                else
                {
                    frames.Add("!" + frame.Reason);
                    onReject?.Invoke(frame.Reason!);
                }
            }

            var consumed = pending.Count - (int)buffer.Length;
            pending.RemoveRange(0, consumed);
            if (pending.Count > framer.MaxBufferedBytes)
            {
                throw new InvalidOperationException($"framer left {pending.Count} bytes buffered");
            }

            if (completed)
            {
                return frames;
            }
        }
    }
}
