using System.IO.Pipelines;
using AnomalyZT.Ingest;
using BenchmarkDotNet.Attributes;

namespace AnomalyZT.Benchmarks;

/// <summary>Parse throughput: Envoy JSON lines from bytes to normalized events.</summary>
[MemoryDiagnoser]
public class IngestBenchmarks
{
    private const int Lines = 10_000;
    private readonly LineDecoder _decoder = new(new IngestOptions());
    private byte[] _body = [];

    [GlobalSetup]
    public void Setup() => _body = Synthetic.EnvoyBody(Lines, 200);

    /// <summary>Decodes 10,000 lines; divide by 10,000 for per-line cost.</summary>
    [Benchmark(OperationsPerInvoke = Lines)]
    public async Task<int> ParseEnvoy()
    {
        var events = 0;
        await _decoder.DecodeAsync(PipeReader.Create(new System.Buffers.ReadOnlySequence<byte>(_body)), "envoy", batch =>
        {
            events += batch.Events.Length;
            return ValueTask.CompletedTask;
        }, 4096, CancellationToken.None);
        return events;
    }
}

