using AnomalyZT.Silo.State;
using Microsoft.Extensions.Options;

namespace AnomalyZT.Silo.Response;

/// <summary>Runs the responder (findings → risk → outbox) and the executor (outbox → providers) as two loops, each woken
/// by the other side's work and polling as a fallback. Registered after the runtime, so it stops before the store
/// closes.</summary>
internal sealed partial class ResponseHostedService(
    IStateStore store,
    Responder responder,
    ActionExecutor executor,
    IOptions<ResponseOptions> options,
    Cluster.Leadership leadership,
    ILogger<ResponseHostedService> logger) : BackgroundService
{
    private static readonly TimeSpan ErrorPause = TimeSpan.FromSeconds(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await store.InitializeAsync(stoppingToken).ConfigureAwait(false);
        responder.ActionsRecorded += executor.Wake;
        var o = options.Value;
        var loops = new List<Task> { LoopAsync("responder", responder.RunOnceAsync, responder.WaitAsync, o.PollInterval, responder.Reset, stoppingToken) };
        if (o.Executor.Enabled)
        {
            loops.Add(LoopAsync("executor", executor.RunOnceAsync, executor.WaitAsync, o.Executor.PollInterval, null, stoppingToken));
        }
        else
        {
            LogExecutorDisabled();
        }

        await Task.WhenAll(loops).ConfigureAwait(false);
    }

    private async Task LoopAsync(
        string name, Func<CancellationToken, Task<int>> once, Func<TimeSpan, CancellationToken, Task> wait, TimeSpan poll, Action? onLead, CancellationToken ct)
    {
        var epoch = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (!leadership.IsLeader)
                {
                    // Another silo runs the response side; look again shortly.
                    await Task.Delay(poll, ct).ConfigureAwait(false);
                    continue;
                }

                if (leadership.Epoch != epoch)
                {
                    // Newly leading: whatever was cached may be stale; start again from the store.
                    epoch = leadership.Epoch;
                    onLead?.Invoke();
                }

                await once(ct).ConfigureAwait(false);
                await wait(poll, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Nothing is lost: the cursor and the outbox only move on a successful commit. Try again shortly.
                LogLoopFailed(ex, name);
                try
                {
                    await Task.Delay(ErrorPause, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    [LoggerMessage(EventId = 4201, Level = LogLevel.Error, Message = "The {Loop} loop failed; retrying")]
    private partial void LogLoopFailed(Exception ex, string loop);

    [LoggerMessage(EventId = 4202, Level = LogLevel.Warning, Message = "Response:Executor:Enabled is false: actions are recorded in the outbox but not delivered")]
    private partial void LogExecutorDisabled();
}
