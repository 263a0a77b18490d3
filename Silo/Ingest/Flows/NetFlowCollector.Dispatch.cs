using System.Collections.Concurrent;
using System.Threading.Channels;

namespace AnomalyZT.Silo.Receivers.Flows;

internal sealed partial class NetFlowCollector
{
    // Batches come back here once dispatched; at most the channel's 4, the open one and the one in flight exist.
    private readonly ConcurrentQueue<FlowBatch> _free = new();

    // Full batches that met the stop while waiting for room in the channel; the stop sends them.
    private readonly ConcurrentQueue<FlowBatch> _unsent = new();
    private long _unknownSourceDatagrams;
    private long _refusedBatches;
    private readonly WarningGate _unknownSourceLog;
    private readonly WarningGate _rejectedLog;
    private readonly WarningGate _limitedLog;
    private readonly WarningGate _refusedLog;
    private readonly WarningGate _kernelLog;
    private readonly WarningGate _receiveErrorLog;
    private readonly WarningGate _failedLog;
    private readonly WarningGate _dispatchFailedLog;

    /// <summary>Datagrams dropped because their source is not in <see cref="NetFlowOptions.AllowedSources"/>.</summary>
    public long UnknownSourceDatagrams => Interlocked.Read(ref _unknownSourceDatagrams);

    /// <summary>Batches the runtime still refused after <see cref="NetFlowOptions.GiveUpAfter"/>.</summary>
    public long RefusedBatches => Interlocked.Read(ref _refusedBatches);

    /// <summary>Datagrams the kernel dropped on this socket because its receive buffer was full (Linux
    /// <c>/proc/net/udp</c> drops column); null where that cannot be read.</summary>
    public long? KernelDrops => _kernelDrops?.Read();

    /// <summary>Sends the open batch every <see cref="NetFlowOptions.FlushInterval"/>, and warns when the kernel
    /// dropped datagrams since the last look. Ends when <paramref name="loops"/> is cancelled; cancels it if it fails.</summary>
    private async Task FlushLoopAsync(CancellationTokenSource loops)
    {
        var ct = loops.Token;
        using var timer = new PeriodicTimer(_options.FlushInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
            {
                if (TakeCurrent() is { } due)
                {
                    await EnqueueAsync(due, ct).ConfigureAwait(false);
                }

                CheckKernelDrops();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // stopping
        }
        catch (Exception e)
        {
            LogLoopFailed("flush", e);
            await loops.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Hands a full batch to the dispatch loop. Waits while the channel is full, but not past
    /// <paramref name="ct"/>: a batch still waiting then is set aside for the stop to send. A batch the failed dispatch
    /// loop can no longer take is counted as refused.</summary>
    private async ValueTask EnqueueAsync(FlowBatch batch, CancellationToken ct)
    {
        try
        {
            await _ready.Writer.WriteAsync(batch, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            _unsent.Enqueue(batch);
        }
        catch (ChannelClosedException)
        {
            Abandon(batch);
        }
    }

    /// <summary>At the stop, once nothing else writes: the batches set aside, then the open one.</summary>
    private async Task SendRemainingAsync()
    {
        while (_unsent.TryDequeue(out var batch))
        {
            await EnqueueAsync(batch, CancellationToken.None).ConfigureAwait(false);
        }

        if (TakeCurrent() is { } last)
        {
            await EnqueueAsync(last, CancellationToken.None).ConfigureAwait(false);
        }
    }

    private void CheckKernelDrops()
    {
        if (_kernelDrops is not null && _kernelLog.TryEnter(out _) && _kernelDrops.TryTakeNew(out var added, out var total))
        {
            LogKernelDrops(added, total);
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

    /// <summary>Dispatches batches until the channel is completed. A batch whose dispatch throws is counted as
    /// refused; if the loop itself fails it closes the channel (so no writer waits on it), counts what the channel
    /// still held as refused, and cancels <paramref name="loops"/>.</summary>
    private async Task DispatchLoopAsync(CancellationTokenSource loops)
    {
        await Task.Yield();
        try
        {
            await foreach (var batch in _ready.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                Settle(batch, await DispatchOneAsync(batch).ConfigureAwait(false), warn: true);
            }
        }
        catch (Exception e)
        {
            LogLoopFailed("dispatch", e);
            _ready.Writer.TryComplete(e);
            while (_ready.Reader.TryRead(out var left))
            {
                Abandon(left);
            }

            await loops.CancelAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async ValueTask<bool> DispatchOneAsync(FlowBatch batch)
    {
        try
        {
            // Not cancelled by the stop: GiveUpAfter bounds each batch, and stopping flushes what was received.
            return await _dispatcher.DispatchAsync(batch.Events, batch.LettersOrEmpty, _options.GiveUpAfter, CancellationToken.None)
                .ConfigureAwait(false);
        }
        catch (Exception e)
        {
            if (_dispatchFailedLog.TryEnter(out var suppressed))
            {
                LogDispatchFailed(e, batch.Count, batch.LetterCount, suppressed);
            }

            return false;
        }
    }

    /// <summary>A batch the dispatch loop will never take (it failed, which was logged): counted as refused.</summary>
    private void Abandon(FlowBatch batch) => Settle(batch, admitted: false, warn: false);

    /// <summary>Counts the batch's outcome and returns it to the free list.</summary>
    private void Settle(FlowBatch batch, bool admitted, bool warn)
    {
        batch.CountOutcome(_dispatcher.Stats, ReceiverName, admitted);
        if (!admitted)
        {
            Interlocked.Increment(ref _refusedBatches);
            if (warn && _refusedLog.TryEnter(out var suppressed))
            {
                LogRefused(batch.Count, batch.LetterCount, _options.GiveUpAfter, suppressed);
            }
        }

        batch.Reset();
        _free.Enqueue(batch);
    }
}
