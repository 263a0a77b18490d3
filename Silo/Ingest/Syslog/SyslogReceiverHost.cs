using System.Net;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace AnomalyZT.Silo.Receivers.Syslog;

/// <summary>Runs the <see cref="SyslogReceiverOptions.Listeners"/>: binds every socket at start (a port in use fails
/// the start), then reads until stopped. Stopping closes the sockets, stops reading and dispatches what was already
/// read; stream batches wait for admission until the host's stop timeout.</summary>
internal sealed partial class SyslogReceiverHost(
    IOptions<SyslogReceiverOptions> options,
    ReceiverDispatcher dispatcher,
    ShipperRateLimiter limiter,
    TimeProvider time,
    ILogger<SyslogReceiverHost> log) : IHostedService, IDisposable
{
    private readonly Dictionary<string, SyslogListener> _listeners = new(StringComparer.Ordinal);
    private readonly List<Task> _loops = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly CancellationTokenSource _abort = new();

    /// <summary>The address and port listener <paramref name="name"/> is bound to, or null when there is no such
    /// listener (or the host has not started).</summary>
    public IPEndPoint? EndPointOf(string name) => _listeners.TryGetValue(name, out var l) ? l.EndPoint : null;

    /// <inheritdoc />
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        try
        {
            foreach (var listenerOptions in settings.Listeners)
            {
                var listener = new SyslogListener(listenerOptions, settings, dispatcher, limiter, time, log);
                _listeners[listenerOptions.Name] = listener;
                LogListening(listenerOptions.Name, listenerOptions.Protocol, listener.EndPoint);
            }
        }
        catch
        {
            DisposeListeners();
            throw;
        }

        foreach (var listener in _listeners.Values)
        {
            _loops.Add(RunLoggedAsync(listener));
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_loops.Count == 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        using var hard = cancellationToken.Register(static s => ((CancellationTokenSource)s!).Cancel(), _abort);
        await Task.WhenAll(_loops).ConfigureAwait(false);
        DisposeListeners();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        DisposeListeners();
        _stop.Dispose();
        _abort.Dispose();
    }

    /// <summary>Runs one listener's loop; an exception that ends it is logged, not left in a task nobody observes.</summary>
    private async Task RunLoggedAsync(SyslogListener listener)
    {
        try
        {
            await Task.Run(() => listener.RunAsync(_stop.Token, _abort.Token), CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogListenerFailed(e, listener.Options.Name);
        }
    }

    private void DisposeListeners()
    {
        foreach (var listener in _listeners.Values)
        {
            listener.Dispose();
        }
    }

    [LoggerMessage(EventId = 7501, Level = LogLevel.Information, Message = "Syslog listener {Listener} ({Protocol}) listening on {EndPoint}")]
    private partial void LogListening(string listener, SyslogProtocol protocol, IPEndPoint endPoint);

    [LoggerMessage(EventId = 7511, Level = LogLevel.Error, Message = "Syslog listener {Listener} stopped after a failure; it no longer receives")]
    private partial void LogListenerFailed(Exception exception, string listener);
}

/// <summary>Registers the syslog network receivers.</summary>
public static class SyslogReceiverServiceCollectionExtensions
{
    /// <summary>Adds <see cref="SyslogReceiverOptions"/> (section <c>Syslog</c>, validated at start) and the hosted
    /// listeners. Needs <see cref="ReceiverDispatcher"/> and <see cref="ShipperRateLimiter"/> registered; registers
    /// <see cref="TimeProvider.System"/> when no clock is.</summary>
    public static IServiceCollection AddSyslogReceivers(this IServiceCollection services)
    {
        services.AddOptions<SyslogReceiverOptions>().BindConfiguration(SyslogReceiverOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SyslogReceiverOptions>, SyslogReceiverOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<SyslogReceiverHost>();
        services.AddHostedService(sp => sp.GetRequiredService<SyslogReceiverHost>());
        return services;
    }
}
