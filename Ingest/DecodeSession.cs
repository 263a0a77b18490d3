using System.Buffers;
using System.Globalization;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Ingest.Parsing;

namespace AnomalyZT.Ingest;

/// <summary>The state of one body: line framing across pipe segments, the long-line skip, counters and the
/// batch being filled. Synchronous so spans never cross an await; <see cref="LineDecoder"/> drives it.</summary>
internal sealed class DecodeSession : IDisposable
{
    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    private readonly ILineParser _parser;
    private readonly int _maxLineBytes;
    private readonly long _maxBodyBytes;
    private readonly int _batchSize;
    private readonly long _notAfterMs;
    private EngineEvent[] _events;
    private int _eventCount;
    private List<LineError>? _rejected;
    private byte[]? _lineBuffer;

    // A line longer than the limit is dropped as it streams by; these remember it until its '\n'.
    private bool _skipping;
    private long _skipLength;
    private byte _skipLastByte;
    private byte[] _skipPayload = [];

    private int _batchFirstLine = 1;
    private int _batchAccepted;
    private int _batchFiltered;
    private int _batchControl;
    private int _batchLines;

    private int _lines;
    private int _accepted;
    private int _filtered;
    private int _rejectedCount;
    private int _control;
    private long _bytes;

    public DecodeSession(ILineParser parser, IngestOptions options, int batchSize, long notAfterMs)
    {
        _notAfterMs = notAfterMs;
        _parser = parser;
        _maxLineBytes = options.MaxLineBytes;
        _maxBodyBytes = options.MaxBodyBytes;
        _batchSize = batchSize;
        _events = ArrayPool<EngineEvent>.Shared.Rent(batchSize);
    }

    /// <summary>True when the current batch holds any line.</summary>
    public bool HasPending => _batchLines > 0;

    /// <summary>Totals so far.</summary>
    public DecodeSummary Summary => new(_lines, _accepted, _filtered, _rejectedCount, _control, _bytes);

    /// <summary>Throws 413 when the bytes consumed plus those buffered pass the body limit.</summary>
    public void CheckBodyLimit(long buffered)
    {
        if (_bytes + buffered > _maxBodyBytes)
        {
            throw new IngestLimitException(413, $"request body is larger than {_maxBodyBytes} bytes after decompression (Ingest:MaxBodyBytes)");
        }
    }

    /// <summary>Decodes whole lines from <paramref name="buffer"/> until it runs out or a batch fills.</summary>
    /// <returns>Where the reader may advance to; <paramref name="batchReady"/> tells whether to flush first.</returns>
    public SequencePosition Process(in ReadOnlySequence<byte> buffer, bool isCompleted, out bool batchReady)
    {
        var reader = new SequenceReader<byte>(buffer);
        batchReady = false;
        while (!batchReady)
        {
            if (_skipping)
            {
                var found = reader.TryReadTo(out ReadOnlySequence<byte> rest, (byte)'\n');
                if (!found)
                {
                    rest = reader.UnreadSequence;
                    reader.AdvanceToEnd();
                }

                _skipLength += rest.Length;
                if (!rest.IsEmpty)
                {
                    _skipLastByte = rest.Slice(rest.Length - 1).FirstSpan[0];
                }

                if (!found && !isCompleted)
                {
                    break;
                }

                EndLongLine();
                if (!found)
                {
                    break;
                }
            }
            else if (reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n'))
            {
                HandleLine(line);
            }
            else
            {
                if (isCompleted && !reader.End)
                {
                    HandleLine(reader.UnreadSequence);
                    reader.AdvanceToEnd();
                }
                else if (reader.Remaining > _maxLineBytes + 1L)
                {
                    // Even with a '\r' before the coming '\n' this line is over the limit: stop buffering it.
                    StartLongLine(reader.UnreadSequence);
                    reader.AdvanceToEnd();
                }

                break;
            }

            batchReady = _eventCount >= _batchSize || (_rejected?.Count ?? 0) >= _batchSize;
        }

        _bytes += reader.Consumed;
        return reader.Position;
    }

    /// <summary>Hands the current batch over and starts a new one.</summary>
    public DecodedBatch TakeBatch()
    {
        var batch = new DecodedBatch(
            _events, _eventCount, (IReadOnlyList<LineError>?)_rejected ?? [], _batchAccepted, _batchFiltered, _batchControl, _batchFirstLine);
        _events = ArrayPool<EngineEvent>.Shared.Rent(_batchSize);
        _eventCount = 0;
        _rejected = null;
        _batchAccepted = _batchFiltered = _batchControl = _batchLines = 0;
        _batchFirstLine = _lines + 1;
        return batch;
    }

    public void Dispose()
    {
        Array.Clear(_events, 0, _eventCount);
        ArrayPool<EngineEvent>.Shared.Return(_events);
        _events = [];
        if (_lineBuffer is not null)
        {
            ArrayPool<byte>.Shared.Return(_lineBuffer);
            _lineBuffer = null;
        }

        _parser.Dispose();
    }

    private void HandleLine(in ReadOnlySequence<byte> sequence)
    {
        var number = NextLine();
        if (sequence.Length > _maxLineBytes + 1L)
        {
            RejectLongLine(number, sequence.Length - (EndsWithCarriageReturn(sequence) ? 1 : 0), Head(sequence));
            return;
        }

        ReadOnlySpan<byte> line;
        if (sequence.IsSingleSegment)
        {
            line = sequence.FirstSpan;
        }
        else
        {
            // A line split across pipe segments is copied once into a reusable buffer.
            _lineBuffer ??= ArrayPool<byte>.Shared.Rent(_maxLineBytes + 1);
            sequence.CopyTo(_lineBuffer);
            line = _lineBuffer.AsSpan(0, (int)sequence.Length);
        }

        if (!line.IsEmpty && line[^1] == (byte)'\r')
        {
            line = line[..^1];
        }

        if (line.Length > _maxLineBytes)
        {
            RejectLongLine(number, line.Length, line[..Math.Min(line.Length, LineError.MaxPayloadBytes)].ToArray());
            return;
        }

        if (number == 1 && line.StartsWith(Utf8Bom))
        {
            line = line[Utf8Bom.Length..];
        }

        if (line.IndexOfAnyExcept((byte)' ', (byte)'\t', (byte)'\r') < 0)
        {
            CountControl();
            return;
        }

        switch (_parser.Parse(line, out var evt, out var reason))
        {
            case LineStatus.Event when evt.TimestampMs > _notAfterMs:
                Reject(new LineError(number, FutureReason(number, evt.TimestampMs), line[..Math.Min(line.Length, LineError.MaxPayloadBytes)].ToArray()));
                break;
            case LineStatus.Event:
                _events[_eventCount++] = evt;
                _accepted++;
                _batchAccepted++;
                break;
            case LineStatus.Filtered:
                _accepted++;
                _batchAccepted++;
                _filtered++;
                _batchFiltered++;
                break;
            case LineStatus.Control:
                CountControl();
                break;
            default:
                Reject(new LineError(number, $"line {number}: {reason}", line[..Math.Min(line.Length, LineError.MaxPayloadBytes)].ToArray()));
                break;
        }
    }

    private string FutureReason(int number, long timestampMs) => string.Create(CultureInfo.InvariantCulture,
        $"line {number}: event time {DateTimeOffset.FromUnixTimeMilliseconds(timestampMs):yyyy-MM-ddTHH:mm:ss.fffZ} is later than " +
        $"{DateTimeOffset.FromUnixTimeMilliseconds(_notAfterMs):yyyy-MM-ddTHH:mm:ss.fffZ}, the silo clock plus Ingest:MaxFutureSkewSeconds; fix the sender's clock");

    private void StartLongLine(in ReadOnlySequence<byte> start)
    {
        _skipping = true;
        _skipLength = start.Length;
        _skipLastByte = start.Slice(start.Length - 1).FirstSpan[0];
        _skipPayload = Head(start);
    }

    private void EndLongLine()
    {
        _skipping = false;
        var number = NextLine();
        RejectLongLine(number, _skipLength - (_skipLastByte == (byte)'\r' ? 1 : 0), _skipPayload);
        _skipPayload = [];
    }

    private void RejectLongLine(int number, long length, byte[] payload) =>
        Reject(new LineError(number, $"line {number} is {length} bytes; the limit is {_maxLineBytes}", payload));

    private void Reject(LineError error)
    {
        (_rejected ??= []).Add(error);
        _rejectedCount++;
    }

    private void CountControl()
    {
        _control++;
        _batchControl++;
    }

    private int NextLine()
    {
        _batchLines++;
        return ++_lines;
    }

    private static byte[] Head(in ReadOnlySequence<byte> sequence) =>
        sequence.Slice(0, Math.Min(sequence.Length, LineError.MaxPayloadBytes)).ToArray();

    private static bool EndsWithCarriageReturn(in ReadOnlySequence<byte> sequence) =>
        !sequence.IsEmpty && sequence.Slice(sequence.Length - 1).FirstSpan[0] == (byte)'\r';
}
