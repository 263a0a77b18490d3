using System.Net;
using System.Net.Sockets;

namespace AnomalyZT.Tests.Response;

/// <summary>A loopback TCP server that accepts connections and never answers: a peer that hangs, for timeout and
/// cancellation tests.</summary>
public sealed class SilentTcpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<TcpClient> _clients = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    /// <summary>Starts listening on a free port.</summary>
    public SilentTcpServer()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    /// <summary>The port it listens on.</summary>
    public int Port { get; }

    /// <summary>Stops listening and closes the connections it holds.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        lock (_clients)
        {
            foreach (var client in _clients)
            {
                client.Dispose();
            }
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            lock (_clients)
            {
                _clients.Add(client);
            }
        }
    }
}
