using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace AnomalyZT.Tests.Response;

/// <summary>A peer server run as a plain child process: its output is kept for error messages, and it is killed on
/// dispose.</summary>
public sealed class PeerProcess : IAsyncDisposable
{
    private const string InstallHint = "run ./test.sh once, which installs the test peers (slapd, ldap-utils, npm ci in Tests/peers/*)";

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Lock _gate = new();
    private TaskCompletionSource<Match>? _waiter;
    private Regex? _pattern;

    private PeerProcess(Process process, string description)
    {
        _process = process;
        Description = description;
    }

    /// <summary>What was started, for messages (program and arguments, no secrets).</summary>
    public string Description { get; }

    /// <summary>The process id.</summary>
    public int Id => _process.Id;

    /// <summary>True once the process has ended.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>What the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (_gate)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts <paramref name="program"/>; stdout and stderr are collected.</summary>
    public static PeerProcess Start(string program, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string>? environment = null)
    {
        var info = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var peer = new PeerProcess(process, program + " " + string.Join(' ', info.ArgumentList));
        process.OutputDataReceived += (_, e) => peer.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => peer.OnLine(e.Data);
        process.Exited += (_, _) => peer.OnExited();
        if (!process.Start())
        {
            throw new InvalidOperationException($"could not start {peer.Description}");
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return peer;
    }

    /// <summary>Waits until the process prints a line matching <paramref name="pattern"/>.</summary>
    /// <exception cref="InvalidOperationException">The process ended first, or <paramref name="timeout"/> passed;
    /// the message has its output.</exception>
    public async Task<Match> WaitForLineAsync(Regex pattern, TimeSpan timeout, CancellationToken ct)
    {
        TaskCompletionSource<Match> waiter;
        lock (_gate)
        {
            foreach (var line in _output.ToString().Split('\n'))
            {
                if (pattern.Match(line) is { Success: true } early)
                {
                    return early;
                }
            }

            _pattern = pattern;
            _waiter = waiter = new TaskCompletionSource<Match>(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        if (_process.HasExited)
        {
            OnExited();
        }

        try
        {
            return await waiter.Task.WaitAsync(timeout, ct);
        }
        catch (TimeoutException)
        {
            throw new InvalidOperationException(
                FormattableString.Invariant($"{Description} did not print a line matching /{pattern}/ within {timeout.TotalSeconds:0} s; output:\n{Output}"));
        }
    }

    /// <summary>Runs <paramref name="program"/> to its end and returns its exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string program, IEnumerable<string> arguments, string workingDirectory,
        IReadOnlyDictionary<string, string>? environment, TimeSpan timeout, CancellationToken ct)
    {
        await using var peer = Start(program, arguments, workingDirectory, environment);
        peer._process.StandardInput.Close();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            await peer._process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new InvalidOperationException(FormattableString.Invariant($"{peer.Description} did not finish within {timeout.TotalSeconds:0} s; output:\n{peer.Output}"));
        }

        // WaitForExitAsync also waits for the redirected streams to end.
        return (peer._process.ExitCode, peer.Output);
    }

    /// <summary>The full path of <paramref name="name"/> on PATH or in one of <paramref name="extraDirectories"/>.</summary>
    /// <exception cref="InvalidOperationException">Not found; the message says to run ./test.sh.</exception>
    public static string FindProgram(string name, params string[] extraDirectories)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var directory in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Concat(extraDirectories))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"'{name}' was not found on PATH or in {string.Join(", ", extraDirectories)}: {InstallHint}");
    }

    /// <summary>Fails with the install hint when <paramref name="directory"/> does not exist.</summary>
    public static void RequireDirectory(string directory, string what)
    {
        if (!Directory.Exists(directory))
        {
            throw new InvalidOperationException($"{what} is missing ({directory}): {InstallHint}");
        }
    }

    /// <summary>A loopback TCP port that nothing listens on at the moment of the call.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Waits until a TCP connection to 127.0.0.1:<paramref name="port"/> succeeds.</summary>
    public async Task WaitForPortAsync(int port, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Description} exited with code {_process.ExitCode} before listening on port {port}; output:\n{Output}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port, ct);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, ct);
            }
            catch (SocketException ex)
            {
                throw new InvalidOperationException(
                    FormattableString.Invariant($"{Description} did not listen on 127.0.0.1:{port} within {timeout.TotalSeconds:0} s ({ex.SocketErrorCode}); output:\n{Output}"));
            }
        }
    }

    /// <summary>Kills the process (and its children) and waits for it to end.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(limit.Token);
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
        {
            // Already gone, or it would not die in time: nothing more a test can do.
        }

        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        TaskCompletionSource<Match>? waiter = null;
        Match? match = null;
        lock (_gate)
        {
            _output.Append(line).Append('\n');
            if (_waiter is not null && _pattern!.Match(line) is { Success: true } m)
            {
                (waiter, match, _waiter) = (_waiter, m, null);
            }
        }

        waiter?.TrySetResult(match!);
    }

    private void OnExited()
    {
        TaskCompletionSource<Match>? waiter;
        lock (_gate)
        {
            (waiter, _waiter) = (_waiter, null);
        }

        if (waiter is not null)
        {
            // Give the output readers a moment to deliver the last lines for the message.
            Thread.Sleep(100);
            waiter.TrySetException(new InvalidOperationException(FormattableString.Invariant(
                $"{Description} exited with code {SafeExitCode()} before it was ready; output:\n{Output}")));
        }
    }

    private string SafeExitCode()
    {
        try
        {
            return _process.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (InvalidOperationException)
        {
            return "?";
        }
    }
}
