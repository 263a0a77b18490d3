using System.Buffers;

namespace AnomalyZT.Ingest.Syslog;

/// <summary>How a syslog TCP connection delimits its messages (RFC 6587).</summary>
public enum SyslogFramingMode : byte
{
    /// <summary>No byte seen yet.</summary>
    Unknown = 0,

    /// <summary>RFC 6587 §3.4.1 octet counting: <c>MSG-LEN SP SYSLOG-MSG</c>.</summary>
    OctetCounting = 1,

    /// <summary>RFC 6587 §3.4.2 non-transparent framing with LF as the trailer.</summary>
    LineFeed = 2,
}

/// <summary>What <see cref="SyslogFraming.TryRead"/> produced.</summary>
public enum SyslogFrameKind : byte
{
    /// <summary>A complete message; <see cref="SyslogFrame.Payload"/> holds it.</summary>
    Message = 1,

    /// <summary>Bytes that could not be framed (oversized, bad header, truncated); <see cref="SyslogFrame.Reason"/> says why.</summary>
    Rejected = 2,
}

/// <summary>One frame cut from a syslog stream.</summary>
/// <param name="Kind">Message or rejection.</param>
/// <param name="Payload">The message bytes, without framing; a slice of the buffer passed to
/// <see cref="SyslogFraming.TryRead"/>, valid until the caller releases that buffer. Empty for rejections.</param>
/// <param name="Reason">Why the bytes were rejected; null for messages.</param>
public readonly record struct SyslogFrame(SyslogFrameKind Kind, ReadOnlySequence<byte> Payload, string? Reason);

/// <summary>Incremental splitter for one syslog TCP connection (RFC 6587). The framing is chosen by the first byte of
/// the connection: a digit selects octet counting, anything else (normally <c>&lt;</c>) LF framing. Frames larger
/// than the configured maximum are rejected and skipped without being buffered; a malformed octet-counting header is
/// rejected and the framer resynchronises on the next <c>LEN SP &lt;</c>. The caller never needs to keep more than
/// <see cref="MaxBufferedBytes"/> unconsumed bytes: whenever more are offered, a frame or rejection is returned.</summary>
/// <remarks>Use with a <see cref="System.IO.Pipelines.PipeReader"/>: call <see cref="TryRead"/> until it returns
/// false, then <c>AdvanceTo(buffer.Start, buffer.End)</c>. Each <c>true</c> consumes at least one byte, so the loop
/// ends. Not thread-safe; one instance per connection.</remarks>
public sealed class SyslogFraming
{
    /// <summary>Default largest message accepted (RFC 5425 §4.3.1 asks receivers for at least 2 KiB, and
    /// recommends 8 KiB; rsyslog's default is 8 KiB; 64 KiB leaves room for large structured data).</summary>
    public const int DefaultMaxMessageSize = 64 * 1024;

    /// <summary>Most digits of an octet count (up to 999,999,999).</summary>
    private const int MaxLengthDigits = 9;

    private readonly int _maxMessageSize;
    private long _skipRemaining;
    private bool _discardLine;
    private bool _resync;
    private long _scanned;

    /// <summary>Creates a framer.</summary>
    /// <param name="maxMessageSize">Largest message in bytes, framing excluded; at least 1.</param>
    public SyslogFraming(int maxMessageSize = DefaultMaxMessageSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxMessageSize, 1);
        _maxMessageSize = maxMessageSize;
    }

    /// <summary>The framing detected for this connection.</summary>
    public SyslogFramingMode Mode { get; private set; }

    /// <summary>Most unconsumed bytes the framer leaves in the caller's buffer when it returns false.</summary>
    public int MaxBufferedBytes => _maxMessageSize + MaxLengthDigits + 2;

    /// <summary>Messages returned so far.</summary>
    public long Messages { get; private set; }

    /// <summary>Rejections returned so far.</summary>
    public long Rejections { get; private set; }

    /// <summary>Bytes dropped: oversized or unframeable data.</summary>
    public long DiscardedBytes { get; private set; }

    /// <summary>Cuts the next frame from the front of <paramref name="buffer"/>.</summary>
    /// <param name="buffer">Unconsumed bytes of the connection; on return, what is still unconsumed.</param>
    /// <param name="isCompleted">True when the peer has closed and no more bytes will come; a partial last frame is then
    /// returned (LF framing) or rejected as truncated (octet counting).</param>
    /// <param name="frame">The frame, when the method returns true.</param>
    /// <returns>True when a frame or rejection was produced (at least one byte consumed); false when more bytes are
    /// needed (or, with <paramref name="isCompleted"/>, the stream is exhausted).</returns>
    public bool TryRead(ref ReadOnlySequence<byte> buffer, bool isCompleted, out SyslogFrame frame)
    {
        frame = default;
        if (_skipRemaining > 0)
        {
            var n = Math.Min(_skipRemaining, buffer.Length);
            Discard(ref buffer, n);
            _skipRemaining -= n;
            if (_skipRemaining > 0)
            {
                return false;
            }
        }

        if (_discardLine)
        {
            var lf = buffer.PositionOf((byte)'\n');
            if (lf is null)
            {
                Discard(ref buffer, buffer.Length);
                return false;
            }

            Discard(ref buffer, buffer.Slice(0, lf.Value).Length + 1);
            _discardLine = false;
        }

        SkipInterFrameBytes(ref buffer);
        if (buffer.IsEmpty)
        {
            return false;
        }

        if (Mode == SyslogFramingMode.Unknown)
        {
            Mode = IsDigit(buffer.FirstSpan[0]) ? SyslogFramingMode.OctetCounting : SyslogFramingMode.LineFeed;
        }

        if (Mode == SyslogFramingMode.LineFeed)
        {
            return TryReadLine(ref buffer, isCompleted, out frame);
        }

        if (_resync && !Resync(ref buffer, isCompleted))
        {
            return false;
        }

        return TryReadCounted(ref buffer, isCompleted, out frame);
    }

    private bool TryReadLine(ref ReadOnlySequence<byte> buffer, bool isCompleted, out SyslogFrame frame)
    {
        frame = default;
        if (_scanned > buffer.Length)
        {
            _scanned = 0;
        }

        var lf = buffer.Slice(_scanned).PositionOf((byte)'\n');
        if (lf is null)
        {
            if (buffer.Length > _maxMessageSize)
            {
                _discardLine = true;
                return Reject(ref buffer, buffer.Length, $"message longer than {_maxMessageSize} bytes without LF", out frame);
            }

            if (isCompleted)
            {
                frame = new SyslogFrame(SyslogFrameKind.Message, TrimCr(buffer), null);
                buffer = buffer.Slice(buffer.End);
                _scanned = 0;
                Messages++;
                return true;
            }

            _scanned = buffer.Length;
            return false;
        }

        _scanned = 0;
        var line = buffer.Slice(0, lf.Value);
        if (line.Length > _maxMessageSize)
        {
            return Reject(ref buffer, line.Length + 1, $"message of {line.Length} bytes exceeds {_maxMessageSize}", out frame);
        }

        frame = new SyslogFrame(SyslogFrameKind.Message, TrimCr(line), null);
        buffer = buffer.Slice(buffer.GetPosition(1, lf.Value));
        Messages++;
        return true;
    }

    private bool TryReadCounted(ref ReadOnlySequence<byte> buffer, bool isCompleted, out SyslogFrame frame)
    {
        frame = default;
        var reader = new SequenceReader<byte>(buffer);
        long length = 0;
        var digits = 0;
        var complete = false;
        while (reader.TryRead(out var b))
        {
            if (IsDigit(b) && digits < MaxLengthDigits && !(digits == 0 && b == (byte)'0'))
            {
                length = (length * 10) + (b - (byte)'0');
                digits++;
            }
            else if (b == (byte)' ' && digits > 0)
            {
                complete = true;
                break;
            }
            else
            {
                _resync = true;
                return Reject(ref buffer, 1, "invalid octet-counting header", out frame);
            }
        }

        if (!complete)
        {
            return isCompleted && Reject(ref buffer, buffer.Length, "stream ended inside an octet-counting header", out frame);
        }

        var header = reader.Consumed;
        if (length > _maxMessageSize)
        {
            _skipRemaining = length;
            return Reject(ref buffer, header, $"frame of {length} bytes exceeds {_maxMessageSize}", out frame);
        }

        if (buffer.Length - header < length)
        {
            return isCompleted && Reject(ref buffer, buffer.Length, $"stream ended inside a frame of {length} bytes", out frame);
        }

        frame = new SyslogFrame(SyslogFrameKind.Message, buffer.Slice(header, length), null);
        buffer = buffer.Slice(header + length);
        Messages++;
        return true;
    }

    /// <summary>Drops bytes until the buffer starts with <c>NONZERO-DIGIT *DIGIT SP "&lt;"</c>. Returns false when more
    /// bytes are needed; what is kept is then a possible header start of at most <see cref="MaxLengthDigits"/> + 1 bytes.</summary>
    private bool Resync(ref ReadOnlySequence<byte> buffer, bool isCompleted)
    {
        var reader = new SequenceReader<byte>(buffer);
        long runStart = -1;
        var runLength = 0;
        var sawSpace = false;
        while (reader.TryRead(out var b))
        {
            var at = reader.Consumed - 1;
            if (sawSpace)
            {
                sawSpace = false;
                if (b == (byte)'<')
                {
                    var start = FirstNonZero(buffer, runStart + Math.Max(0, runLength - MaxLengthDigits), at - 1);
                    if (start >= 0)
                    {
                        Discard(ref buffer, start);
                        _resync = false;
                        return true;
                    }
                }

                runStart = -1;
                runLength = 0;
            }

            if (IsDigit(b))
            {
                if (runStart < 0)
                {
                    runStart = at;
                }

                runLength++;
            }
            else if (b == (byte)' ' && runStart >= 0)
            {
                sawSpace = true;
            }
            else
            {
                runStart = -1;
                runLength = 0;
            }
        }

        if (isCompleted || runStart < 0)
        {
            Discard(ref buffer, buffer.Length);
            return false;
        }

        Discard(ref buffer, runStart + Math.Max(0, runLength - MaxLengthDigits));
        return false;
    }

    private static long FirstNonZero(in ReadOnlySequence<byte> buffer, long from, long end)
    {
        var reader = new SequenceReader<byte>(buffer.Slice(from, end - from));
        while (reader.TryRead(out var b))
        {
            if (b != (byte)'0')
            {
                return from + reader.Consumed - 1;
            }
        }

        return -1;
    }

    private bool Reject(ref ReadOnlySequence<byte> buffer, long consume, string reason, out SyslogFrame frame)
    {
        Discard(ref buffer, consume);
        _scanned = 0;
        Rejections++;
        frame = new SyslogFrame(SyslogFrameKind.Rejected, ReadOnlySequence<byte>.Empty, reason);
        return true;
    }

    private void Discard(ref ReadOnlySequence<byte> buffer, long count)
    {
        buffer = buffer.Slice(count);
        DiscardedBytes += count;
    }

    /// <summary>Drops CR, LF and NUL between frames (trailers some senders add after octet-counted frames, blank
    /// lines). Never touches bytes inside a partially read line.</summary>
    private void SkipInterFrameBytes(ref ReadOnlySequence<byte> buffer)
    {
        if (_scanned > 0)
        {
            return;
        }

        var reader = new SequenceReader<byte>(buffer);
        var skipped = reader.AdvancePastAny((byte)'\n', (byte)'\r', (byte)0);
        if (skipped > 0)
        {
            buffer = buffer.Slice(skipped);
        }
    }

    private static ReadOnlySequence<byte> TrimCr(in ReadOnlySequence<byte> line)
    {
        if (line.IsEmpty)
        {
            return line;
        }

        var last = line.Slice(line.Length - 1);
        return last.FirstSpan[0] == (byte)'\r' ? line.Slice(0, line.Length - 1) : line;
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;
}
