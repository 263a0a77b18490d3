using System.Diagnostics;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace AnomalyZT.Silo.Cluster.Bus;

/// <summary>One long-lived AMQP connection of the bus (publishers and consumers each have their own, so that a broker
/// blocking publishers never stalls acks). The client's automatic recovery is off: when the connection is lost this
/// reconnects in the background with back-off, and callers get the new one from <see cref="GetAsync"/>; consumers
/// re-register themselves.</summary>
internal sealed partial class BusConnection : IAsyncDisposable
{
    private readonly RabbitBusOptions _options;
    private readonly ConnectionFactory _factory;
    private readonly string _role;
    private readonly string _broker;
    private readonly ILogger _logger;
    private readonly BusMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly SemaphoreSlim _connectGate = new(1, 1);
    private readonly CancellationTokenSource _disposing = new();
    private Session? _session;
    private TaskCompletionSource<Session> _ready = NewReady();
    private Task? _loop;
    private Exception? _lastError;
    private int _generation;
    private volatile string? _blockedReason;

    public BusConnection(RabbitBusOptions options, string role, ILogger logger, BusMetrics metrics, TimeProvider time)
    {
        _options = options;
        _role = role;
        _logger = logger;
        _metrics = metrics;
        _time = time;
        _factory = options.CreateFactory(role);
        _broker = options.Describe();
    }

    /// <summary>An open connection and its number (it grows with every reconnect).</summary>
    internal sealed record Session(IConnection Connection, int Generation);

    /// <summary>The broker's reason while it blocks this connection (a resource alarm); null otherwise.</summary>
    public string? BlockedReason => _blockedReason;

    /// <summary>True while a connection is open.</summary>
    public bool IsOpen => _session?.Connection.IsOpen == true;

    /// <summary>The open connection. When there is none, starts reconnecting and waits for it (bounded by
    /// <paramref name="ct"/>); with <paramref name="failFast"/>, throws at once if the last attempt failed.</summary>
    /// <exception cref="BusUnavailableException">Fail-fast and the broker is unreachable.</exception>
    public async Task<Session> GetAsync(bool failFast, CancellationToken ct)
    {
        Task<Session> ready;
        Exception? error;
        ShutdownEventArgs? lost = null;
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposing.IsCancellationRequested, this);
            if (_session is { } current)
            {
                if (current.Connection.IsOpen)
                {
                    return current;
                }

                // Closed, and its shutdown event not handled yet.
                lost = current.Connection.CloseReason ?? new ShutdownEventArgs(ShutdownInitiator.Library, 0, "closed");
                ForgetLocked(current);
            }

            error = _lastError;
            EnsureLoopLocked();
            ready = _ready.Task;
        }

        if (lost is not null)
        {
            _metrics.ConnectionLost(_role);
            BusLog.ConnectionLost(_logger, _role, lost.ReplyCode, lost.ReplyText);
        }

        if (failFast && error is not null)
        {
            throw Unavailable(error);
        }

        return await ready.WaitAsync(ct);
    }

    /// <summary>One connection attempt now (start-up checks): the open connection, or a clear error.</summary>
    /// <exception cref="BusUnavailableException">The broker cannot be reached or refused the login.</exception>
    public async Task<Session> ConnectAsync(CancellationToken ct)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_disposing.IsCancellationRequested, this);
            if (_session is { Connection.IsOpen: true } current)
            {
                return current;
            }
        }

        return await ConnectOnceAsync(1, ct) ?? throw Unavailable(_lastError);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Session? session;
        Task? loop;
        lock (_lock)
        {
            if (_disposing.IsCancellationRequested)
            {
                return;
            }

            _disposing.Cancel();
            (session, _session, loop) = (_session, null, _loop);
            _ready.TrySetException(new ObjectDisposedException(nameof(PartitionBus)));
        }

        if (loop is not null)
        {
            await loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }

        if (session is not null)
        {
            try
            {
                await session.Connection.CloseAsync(200, "bye", TimeSpan.FromSeconds(5), abort: true, CancellationToken.None);
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                BusLog.CloseFailed(_logger, ex.Message);
            }

            await session.Connection.DisposeAsync();
        }

        _disposing.Dispose();
        _connectGate.Dispose();
    }

    private static TaskCompletionSource<Session> NewReady() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private BusUnavailableException Unavailable(Exception? error) => new(
        $"RabbitMQ ({_options.Describe()}) is not reachable for the bus's {_role} connection: {error?.Message ?? "no connection yet"}", error);

    private void EnsureLoopLocked()
    {
        if (_loop is null || _loop.IsCompleted)
        {
            _loop = Task.Run(ReconnectLoopAsync);
        }
    }

    private void ForgetLocked(Session session)
    {
        if (!ReferenceEquals(_session, session))
        {
            return;
        }

        _session = null;
        _blockedReason = null;
        if (_ready.Task.IsCompleted)
        {
            _ready = NewReady();
        }

        // Often called from the connection's own shutdown event: dispose it elsewhere.
        _ = Task.Run(() => DisposeQuietlyAsync(session.Connection));
    }

    private async Task ReconnectLoopAsync()
    {
        var started = Stopwatch.GetTimestamp();
        var delay = _options.ReconnectDelay;
        for (var attempt = 1; !_disposing.IsCancellationRequested; attempt++)
        {
            Session? session;
            try
            {
                session = await ConnectOnceAsync(attempt, _disposing.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            if (session is not null)
            {
                if (attempt > 1)
                {
                    var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
                    BusLog.Reconnected(_logger, _role, attempt, seconds);
                }

                return;
            }

            try
            {
                await Task.Delay(delay, _time, _disposing.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxReconnectDelay.Ticks));
        }
    }

    /// <summary>Opens a connection unless one is open; null (and <see cref="_lastError"/> set) when it fails.</summary>
    private async Task<Session?> ConnectOnceAsync(int attempt, CancellationToken ct)
    {
        await _connectGate.WaitAsync(ct);
        try
        {
            lock (_lock)
            {
                if (_session is { Connection.IsOpen: true } open)
                {
                    return open;
                }
            }

            IConnection connection;
            try
            {
                connection = await _factory.CreateConnectionAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                lock (_lock)
                {
                    _lastError = ex;
                }

                // The first failures of an outage are worth a warning; after that, one line every tenth attempt.
                if (attempt <= 2 || attempt % 10 == 0)
                {
                    BusLog.ConnectFailed(_logger, _role, _broker, attempt, ex.Message);
                }

                return null;
            }

            Session session;
            TaskCompletionSource<Session> ready;
            lock (_lock)
            {
                if (_disposing.IsCancellationRequested)
                {
                    _ = DisposeQuietlyAsync(connection);
                    throw new OperationCanceledException(_disposing.Token);
                }

                session = new Session(connection, ++_generation);
                if (_session is { } stale)
                {
                    ForgetLocked(stale);
                }

                _session = session;
                _lastError = null;
                _blockedReason = null;
                if (_ready.Task.IsCompleted)
                {
                    _ready = NewReady();
                }

                ready = _ready;
            }

            connection.ConnectionShutdownAsync += (_, e) => OnShutdownAsync(session, e);
            connection.ConnectionBlockedAsync += (_, e) => OnBlockedAsync(session, e);
            connection.ConnectionUnblockedAsync += (_, _) => OnUnblockedAsync(session);
            _metrics.Connected(_role);
            BusLog.Connected(_logger, _role, _broker);
            ready.TrySetResult(session);
            if (!connection.IsOpen)
            {
                // Lost before the handler was attached: treat it as lost now.
                await OnShutdownAsync(session, connection.CloseReason ?? new ShutdownEventArgs(ShutdownInitiator.Library, 0, "closed during open"));
            }

            return session;
        }
        finally
        {
            _connectGate.Release();
        }
    }
}
