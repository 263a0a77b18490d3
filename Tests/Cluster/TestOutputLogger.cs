using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace AnomalyZT.Tests.Cluster;

/// <summary>Writes log lines to the current test's output (kept for a failing test's report); lines after the test has
/// ended are dropped.</summary>
internal sealed class TestOutputLogger<T> : ILogger<T>
{
    private readonly ITestOutputHelper? _output = TestContext.Current.TestOutputHelper;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        try
        {
            _output?.WriteLine(FormattableString.Invariant($"{_clock.Elapsed.TotalSeconds,7:0.000} {logLevel,-11} {eventId.Id} {formatter(state, exception)}{(exception is null ? string.Empty : " | " + exception.GetType().Name + ": " + exception.Message)}"));
        }
        catch (InvalidOperationException)
        {
            // The test is over.
        }
    }
}
