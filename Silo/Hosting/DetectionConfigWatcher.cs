using AnomalyZT.Grains.Config;
using AnomalyZT.Silo.Runtime;
using Microsoft.Extensions.Options;

namespace AnomalyZT.Silo.Hosting;

/// <summary>What the silo reports about its detection configuration.</summary>
/// <param name="Version">Version in force.</param>
/// <param name="File">The file watched, or null when the built-in defaults are used.</param>
/// <param name="AppliedAt">When the version in force was applied.</param>
/// <param name="LastError">Why the last change was refused (null when the file in place is the one in force).</param>
/// <param name="LastErrorAt">When it was refused.</param>
public sealed record DetectionConfigStatus(string Version, string? File, DateTimeOffset AppliedAt, string? LastError, DateTimeOffset? LastErrorAt);

/// <summary>Watches <c>detectors.yaml</c> and applies a changed file without a restart. A file that fails validation
/// is refused: its error is logged and exposed on <c>GET /v1/config</c>, and the running configuration stays.</summary>
/// <remarks>Polls the file's content hash (every <see cref="PollInterval"/>) rather than relying on file-system
/// events alone, which editors and config-map volume swaps (symlink flips) do not raise reliably.</remarks>
internal sealed partial class DetectionConfigWatcher(
    IOptions<EmbeddedRuntimeOptions> options,
    IGrainRuntime runtime,
    DetectionConfig initial,
    Response.ResponsePolicySource policy,
    TimeProvider time,
    ILogger<DetectionConfigWatcher> logger) : BackgroundService
{
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    private readonly string? _path = string.IsNullOrWhiteSpace(options.Value.DetectorsFile) ? null : Path.GetFullPath(options.Value.DetectorsFile);
    private readonly SemaphoreSlim _checking = new(1, 1);
    private string? _lastText;
    private volatile DetectionConfigStatus _status = new(initial.Version, null, time.GetUtcNow(), null, null);

    public DetectionConfigStatus Status => _status with { File = _path };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_path is null)
        {
            return;
        }

        // Compare against the text the running config was parsed from, so an edit made while the silo was starting
        // is still applied.
        _lastText = null;
        await CheckAsync(stoppingToken).ConfigureAwait(false);
        using var timer = new PeriodicTimer(PollInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                await CheckAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    /// <summary>Reads the file; if it changed, validates and applies it (or records why not).</summary>
    internal async Task CheckAsync(CancellationToken ct)
    {
        // One check at a time: a caller that finds the text already handled returns only after it was applied.
        await _checking.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await CheckOnceAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            _checking.Release();
        }
    }

    private async Task CheckOnceAsync(CancellationToken ct)
    {
        var text = TryRead(_path!);
        if (text is null || text == _lastText)
        {
            return;
        }

        // Each distinct text is tried once: a refused file is not re-parsed every poll.
        _lastText = text;
        DetectionConfig next;
        try
        {
            next = DetectionConfigLoader.Parse(text, _path!);
        }
        catch (DetectionConfigException ex)
        {
            Refuse(ex.Message);
            return;
        }

        if (next.SourceHash == initial.SourceHash && _status.Version == initial.Version)
        {
            return; // the file the silo started with
        }

        // The response policy must fit the configured connectors before anything is switched.
        var policyErrors = Response.ResponsePolicySource.Validate(next.Response, policy.Connectors);
        if (policyErrors.Count > 0)
        {
            Refuse(string.Join("; ", policyErrors));
            return;
        }

        try
        {
            await runtime.ReconfigureAsync(next, ct).ConfigureAwait(false);
            policy.Apply(next.Response);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // A partition could not rebuild its grains; each partition rolls back on its own failure.
            Refuse("the configuration was valid but could not be applied: " + ex.Message);
            return;
        }

        _status = new DetectionConfigStatus(next.Version, _path, time.GetUtcNow(), null, null);
        LogApplied(next.Version);
    }

    public override void Dispose()
    {
        _checking.Dispose();
        base.Dispose();
    }

    private void Refuse(string error)
    {
        _status = _status with { LastError = error, LastErrorAt = time.GetUtcNow() };
        LogRefused(error);
    }

    private static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return null; // mid-write or briefly missing during a swap: try again at the next poll
        }
    }

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Applied detector configuration {Version} without a restart")]
    private partial void LogApplied(string version);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Error, Message = "Refused a changed detector configuration; the running one stays: {Error}")]
    private partial void LogRefused(string error);
}
