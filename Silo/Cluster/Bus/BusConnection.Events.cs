using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace AnomalyZT.Silo.Cluster.Bus;

/// <summary>Connection events: lost, blocked, unblocked.</summary>
internal sealed partial class BusConnection
{
    private Task OnShutdownAsync(Session session, ShutdownEventArgs e)
    {
        lock (_lock)
        {
            if (!ReferenceEquals(_session, session) || _disposing.IsCancellationRequested)
            {
                return Task.CompletedTask;
            }

            ForgetLocked(session);
            EnsureLoopLocked();
        }

        _metrics.ConnectionLost(_role);
        BusLog.ConnectionLost(_logger, _role, e.ReplyCode, e.ReplyText);
        return Task.CompletedTask;
    }

    private Task OnBlockedAsync(Session session, ConnectionBlockedEventArgs e)
    {
        if (ReferenceEquals(_session, session))
        {
            _blockedReason = string.IsNullOrEmpty(e.Reason) ? "blocked" : e.Reason;
            _metrics.Blocked();
            BusLog.Blocked(_logger, _role, _blockedReason);
        }

        return Task.CompletedTask;
    }

    private Task OnUnblockedAsync(Session session)
    {
        if (ReferenceEquals(_session, session) && _blockedReason is not null)
        {
            _blockedReason = null;
            BusLog.Unblocked(_logger, _role);
        }

        return Task.CompletedTask;
    }

    private async Task DisposeQuietlyAsync(IConnection connection)
    {
        try
        {
            if (connection.IsOpen)
            {
                await connection.CloseAsync(200, "replaced", TimeSpan.FromSeconds(2), abort: true, CancellationToken.None);
            }

            await connection.DisposeAsync();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            BusLog.CloseFailed(_logger, ex.Message);
        }
    }
}
