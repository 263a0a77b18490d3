using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Ingest;

namespace AnomalyZT.Tests.Ingest;

/// <summary>What one decoded body produced, gathered from every batch.</summary>
internal sealed record DecodeResult(DecodeSummary Summary, List<EngineEvent> Events, List<LineError> Rejected, List<BatchInfo> Batches)
{
    public AccessEvent SingleAccess()
    {
        Assert.Empty(Rejected);
        var evt = Assert.Single(Events);
        Assert.Equal(EventKind.Access, evt.Kind);
        return evt.Access;
    }

    public FlowEvent SingleFlow()
    {
        Assert.Empty(Rejected);
        var evt = Assert.Single(Events);
        Assert.Equal(EventKind.Flow, evt.Kind);
        return evt.Flow;
    }

    public GpuSample SingleGpu()
    {
        Assert.Empty(Rejected);
        var evt = Assert.Single(Events);
        Assert.Equal(EventKind.Gpu, evt.Kind);
        return evt.Gpu;
    }

    public string SingleReason()
    {
        Assert.Empty(Events);
        return Assert.Single(Rejected).Reason;
    }
}

/// <summary>Per-batch counts, to check batching.</summary>
internal readonly record struct BatchInfo(int Events, int Rejected, int Accepted, int Filtered, int ControlLines, int FirstLineNumber);

/// <summary>Runs <see cref="LineDecoder"/> over an in-memory body, whole or fed through a <see cref="Pipe"/> in chunks.</summary>
internal static class IngestHarness
{
    public static Task<DecodeResult> DecodeAsync(string body, string format, IngestOptions? options = null, int batchSize = 1000) =>
        DecodeAsync(Encoding.UTF8.GetBytes(body), format, options, batchSize);

    public static Task<DecodeResult> DecodeAsync(byte[] body, string format, IngestOptions? options = null, int batchSize = 1000, int chunkSize = 0) =>
        DecodeAsync(new LineDecoder(options ?? new IngestOptions()), body, format, batchSize, chunkSize);

    public static async Task<DecodeResult> DecodeAsync(LineDecoder decoder, byte[] body, string format, int batchSize, int chunkSize)
    {
        if (chunkSize <= 0)
        {
            return await RunAsync(decoder, PipeReader.Create(new ReadOnlySequence<byte>(body)), format, batchSize);
        }

        // Small writes with a flush each give the reader many segments, so lines straddle segment boundaries.
        var pipe = new Pipe(new PipeOptions(minimumSegmentSize: Math.Max(chunkSize, 1), pauseWriterThreshold: 0));
        var writer = Task.Run(async () =>
        {
            for (var offset = 0; offset < body.Length; offset += chunkSize)
            {
                var size = Math.Min(chunkSize, body.Length - offset);
                await pipe.Writer.WriteAsync(body.AsMemory(offset, size));
                await Task.Yield();
            }

            await pipe.Writer.CompleteAsync();
        });
        var result = await RunAsync(decoder, pipe.Reader, format, batchSize);
        await writer;
        return result;
    }

    public static Task<DecodeResult> RunAsync(LineDecoder decoder, PipeReader reader, string format, int batchSize)
    {
        var events = new List<EngineEvent>();
        var rejected = new List<LineError>();
        var batches = new List<BatchInfo>();
        return RunCoreAsync();

        async Task<DecodeResult> RunCoreAsync()
        {
            var summary = await decoder.DecodeAsync(
                reader,
                format,
                batch =>
                {
                    foreach (var evt in batch.Events)
                    {
                        events.Add(evt);
                    }

                    rejected.AddRange(batch.Rejected);
                    batches.Add(new BatchInfo(batch.Events.Length, batch.Rejected.Count, batch.Accepted, batch.Filtered, batch.ControlLines, batch.FirstLineNumber));
                    return ValueTask.CompletedTask;
                },
                batchSize,
                TestContext.Current.CancellationToken);
            return new DecodeResult(summary, events, rejected, batches);
        }
    }

    /// <summary>The body as a sequence of <paramref name="chunkSize"/>-byte segments, read in one go.</summary>
    public static ReadOnlySequence<byte> Segmented(byte[] body, int chunkSize)
    {
        if (body.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(body.AsMemory(0, Math.Min(chunkSize, body.Length)), 0);
        var last = first;
        for (var offset = chunkSize; offset < body.Length; offset += chunkSize)
        {
            last = last.Append(body.AsMemory(offset, Math.Min(chunkSize, body.Length - offset)));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>Lines joined with '\n'.</summary>
    public static string Lines(params string[] lines) => string.Join('\n', lines) + "\n";
}

internal sealed class Segment : ReadOnlySequenceSegment<byte>
{
    public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    public Segment Append(ReadOnlyMemory<byte> memory)
    {
        var next = new Segment(memory, RunningIndex + Memory.Length);
        Next = next;
        return next;
    }
}
