using System.Collections.Concurrent;

namespace AnomalyZT.Silo.Receivers.Flows;

internal sealed partial class NetFlowCollector
{
    // Batches come back here once dispatched; at most the channel's 4, the open one and the one in flight exist.
    private readonly ConcurrentQueue<FlowBatch> _free = new();
    private long _unknownSourceDatagrams;
    private long _refusedBatches;
    private long _kernelDropsSeen;
    private readonly WarningGate _unknownSourceLog;
    private readonly WarningGate _rejectedLog;
    private readonly WarningGate _limitedLog;
    private readonly WarningGate _refusedLog;
    private readonly WarningGate _kernelLog;
    private readonly WarningGate _receiveErrorLog;

    /// <summary>Datagrams dropped because their source is not in <see cref="NetFlowOptions.AllowedSources"/>.</summary>
    public long UnknownSourceDatagrams => Interlocked.Read(ref _unknownSourceDatagrams);

    /// <summary>Batches the runtime still refused after <see cref="NetFlowOptions.GiveUpAfter"/>.</summary>
    public long RefusedBatches => Interlocked.Read(ref _refusedBatches);

    /// <summary>Datagrams the kernel dropped on this socket because its receive buffer was full (Linux
    /// <c>/proc/net/udp</c> drops column); null where that cannot be read.</summary>
    public long? KernelDrops => _kernelDrops?.Read();

    /// <summary>Sends the open batch every <see cref="NetFlowOptions.FlushInterval"/>, and warns when the kernel
    /// dropped datagrams since the last look.</summary>
    private async Task FlushLoopAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_options.FlushInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                if (TakeCurrent() is { } due)
                {
                    await _ready.Writer.WriteAsync(due, CancellationToken.None).ConfigureAwait(false);
                }

                CheckKernelDrops();
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    private void CheckKernelDrops()
    {
        if (_kernelDrops is null || !_kernelLog.TryEnter(out _))
        {
            return;
        }

        if (_kernelDrops.Read() is { } drops && drops > _kernelDropsSeen)
        {
            LogKernelDrops(drops - _kernelDropsSeen, drops);
            _kernelDropsSeen = drops;
        }
    }

    private FlowBatch? TakeCurrent()
    {
        lock (_gate)
        {
            return _current.IsEmpty ? null : Swap();
        }
    }

    /// <summary>Replaces the open batch; call under <see cref="_gate"/>.</summary>
    private FlowBatch Swap()
    {
        var full = _current;
        _current = _free.TryDequeue(out var reused) ? reused : new FlowBatch(_options.MaxBatch);
        return full;
    }

    private async Task DispatchLoopAsync()
    {
        await Task.Yield();
        var stats = _dispatcher.Stats;
        await foreach (var batch in _ready.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            // Not cancelled by the stop: GiveUpAfter bounds each batch, and stopping flushes what was received.
            var admitted = await _dispatcher.DispatchAsync(batch.Events, batch.LettersOrEmpty, _options.GiveUpAfter, CancellationToken.None)
                .ConfigureAwait(false);
            batch.CountOutcome(stats, ReceiverName, admitted);
            if (!admitted)
            {
                Interlocked.Increment(ref _refusedBatches);
                if (_refusedLog.TryEnter(out var suppressed))
                {
                    LogRefused(batch.Count, _options.GiveUpAfter, suppressed);
                }
            }

            batch.Reset();
            _free.Enqueue(batch);
        }
    }
}
