namespace AnomalyZT.Silo.Receivers.Syslog;

/// <summary>The idle timeout of one stream connection: <see cref="Arm"/> before each read, <see cref="Disarm"/> as soon
/// as it returns, so that only time spent waiting for the peer counts. Stopping the listener cancels the armed token.
/// Not thread-safe apart from that stop callback: one per connection.</summary>
internal sealed class SyslogIdleTimer : IDisposable
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _timeout;
    private readonly CancellationToken _stop;
    private readonly CancellationTokenRegistration _stopping;
    private CancellationTokenSource _cts;

    public SyslogIdleTimer(TimeProvider time, TimeSpan timeout, CancellationToken stop)
    {
        _time = time;
        _timeout = timeout;
        _stop = stop;
        _cts = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        _stopping = stop.Register(static s => ((SyslogIdleTimer)s!).CancelOnStop(), this);
    }

    /// <summary>Starts the timeout; returns the token of the read it guards.</summary>
    public CancellationToken Arm()
    {
        if (_cts.IsCancellationRequested && !_stop.IsCancellationRequested)
        {
            // The timer fired in the instant between a read returning and Disarm: the peer was not idle, so start afresh.
            var fired = _cts;
            Volatile.Write(ref _cts, new CancellationTokenSource(Timeout.InfiniteTimeSpan, _time));
            fired.Dispose();
            if (_stop.IsCancellationRequested)
            {
                _cts.Cancel();
            }
        }

        _cts.CancelAfter(_timeout);
        return _cts.Token;
    }

    /// <summary>Stops the timeout (no effect once it fired).</summary>
    public void Disarm() => _cts.CancelAfter(Timeout.InfiniteTimeSpan);

    /// <inheritdoc />
    public void Dispose()
    {
        _stopping.Dispose();
        _cts.Dispose();
    }

    private void CancelOnStop()
    {
        try
        {
            Volatile.Read(ref _cts).Cancel();
        }
        catch (ObjectDisposedException)
        {
            // replaced by Arm at this instant; Arm sees the stop and cancels the new one
        }
    }
}
