using AnomalyZT.Silo.Runtime;
using AnomalyZT.Silo.State;

namespace AnomalyZT.Silo.Hosting;

/// <summary>Opens the state store, restores and starts the runtime; on shutdown drains it with a final checkpoint.</summary>
internal sealed partial class RuntimeHostedService(IStateStore store, IGrainRuntime runtime, ILogger<RuntimeHostedService> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        await runtime.StartAsync(cancellationToken).ConfigureAwait(false);
        LogStarted(runtime.PartitionCount);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await runtime.StopAsync(cancellationToken).ConfigureAwait(false);
        await store.DisposeAsync().ConfigureAwait(false);
    }

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Engine running with {Partitions} partitions")]
    private partial void LogStarted(int partitions);
}
