using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using AnomalyZT.Ingest.Syslog;

namespace AnomalyZT.Silo.Receivers.Syslog;

/// <summary>TCP and TLS: accept loop and one reader per connection.</summary>
internal sealed partial class SyslogListener
{
    /// <summary>Most open connections from one address (Tcp, Tls), so that one host, authenticated or not, cannot
    /// hold every <see cref="SyslogListenerOptions.MaxConnections"/> slot. More are closed at once and counted as
    /// refused under <see cref="ConnectionLimit"/>.</summary>
    public const int MaxConnectionsPerAddress = 32;

    private readonly HashSet<Connection> _open = [];
    private readonly Dictionary<IPAddress, int> _openByAddress = [];

    private async Task AcceptAsync(CancellationToken stop, CancellationToken abort)
    {
        while (!stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _socket.AcceptAsync(stop).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                break;
            }
            catch (SocketException e)
            {
                LogSocketError(Options.Name, e.SocketErrorCode);
                continue;
            }

            var peer = ((IPEndPoint)socket.RemoteEndPoint!).Address;
            if (TryTrack(peer) is not { } connection)
            {
                socket.Dispose();
                continue;
            }

            connection.Task = ServeTrackedAsync(connection, socket, stop, abort);
        }

        Task[] running;
        lock (_open)
        {
            running = [.. _open.Select(c => c.Task)];
        }

        await Task.WhenAll(running).ConfigureAwait(false);
    }

    /// <summary>Tracks a new connection from <paramref name="peer"/>, or counts and (rate-limited) logs it and returns
    /// null when it is over <see cref="SyslogListenerOptions.MaxConnections"/> or <see cref="MaxConnectionsPerAddress"/>.</summary>
    private Connection? TryTrack(IPAddress peer)
    {
        int fromPeer;
        lock (_open)
        {
            if (_open.Count < Options.MaxConnections)
            {
                _openByAddress.TryGetValue(peer, out fromPeer);
                if (fromPeer < MaxConnectionsPerAddress)
                {
                    var connection = new Connection(peer);
                    _open.Add(connection);
                    _openByAddress[peer] = fromPeer + 1;
                    return connection;
                }
            }
            else
            {
                fromPeer = -1;
            }
        }

        Stats.Count(Receiver, ConnectionLimit, "syslog", 0, refused: 1);
        if (fromPeer < 0)
        {
            if (_limitGate.TryEnter(out var suppressed))
            {
                LogConnectionLimit(Options.Name, Options.MaxConnections, suppressed);
            }
        }
        else if (_addressLimitGate.TryEnter(out var suppressed))
        {
            LogAddressConnectionLimit(Options.Name, MaxConnectionsPerAddress, peer, suppressed);
        }

        return null;
    }

    private async Task ServeTrackedAsync(Connection connection, Socket socket, CancellationToken stop, CancellationToken abort)
    {
        await Task.Yield();
        try
        {
            await ServeAsync(socket, connection.Peer, stop, abort).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            LogConnectionFailed(e, Options.Name);
        }
        finally
        {
            lock (_open)
            {
                _open.Remove(connection);
                if (_openByAddress.TryGetValue(connection.Peer, out var fromPeer) && fromPeer > 1)
                {
                    _openByAddress[connection.Peer] = fromPeer - 1;
                }
                else
                {
                    _openByAddress.Remove(connection.Peer);
                }
            }
        }
    }

    private async Task ServeAsync(Socket socket, IPAddress peer, CancellationToken stop, CancellationToken abort)
    {
        var shipper = Allowlist.Count > 0 ? Allowlist.Match(peer) : null;
        if (shipper is null && (Options.Protocol == SyslogProtocol.Tcp || Allowlist.Count > 0))
        {
            RefuseUnknown(peer);
            socket.Dispose();
            return;
        }

        socket.NoDelay = true;
        var network = new NetworkStream(socket, ownsSocket: true);
        await using (network.ConfigureAwait(false))
        {
            if (Options.Protocol != SyslogProtocol.Tls)
            {
                await ReadAsync(socket, network, new SyslogBatch(this, shipper!), stop, abort).ConfigureAwait(false);
                return;
            }

            // Its own using: disposing the SslStream frees its native TLS state (on a refused handshake too); it also
            // closes the NetworkStream, which the outer using then closes again harmlessly.
            var ssl = new SslStream(network, leaveInnerStreamOpen: false);
            await using (ssl.ConfigureAwait(false))
            {
                shipper = await AuthenticateAsync(ssl, peer, stop).ConfigureAwait(false);
                if (shipper is not null)
                {
                    await ReadAsync(socket, ssl, new SyslogBatch(this, shipper), stop, abort).ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>Frames, parses and dispatches until the peer closes, goes idle or the listener stops. A batch is
    /// dispatched when full or when the socket has nothing more to read right now; while it waits for the rate limit or
    /// for admission nothing is read, so TCP flow control pushes back on the sender.</summary>
    private async Task ReadAsync(Socket socket, Stream stream, SyslogBatch batch, CancellationToken stop, CancellationToken abort)
    {
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 4096, leaveOpen: true));
        var framing = new SyslogFraming(Options.MaxMessageBytes);

        // The idle timer runs only while a read waits: it is disarmed while a batch waits for the rate limit or for
        // admission (which can take longer than the idle timeout), else the next read would be cancelled at once and
        // the bytes the kernel has already acknowledged would be lost.
        using var idle = new SyslogIdleTimer(Time, Options.IdleTimeout, stop);
        long number = 0;
        try
        {
            while (true)
            {
                ReadResult result;
                try
                {
                    result = await reader.ReadAsync(idle.Arm()).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or IOException)
                {
                    break; // idle, stopping, or the peer reset the connection
                }

                idle.Disarm();
                var buffer = result.Buffer;
                while (framing.TryRead(ref buffer, result.IsCompleted, out var frame))
                {
                    number++;
                    if (frame.Kind == SyslogFrameKind.Message)
                    {
                        batch.Add(frame.Payload, number);
                    }
                    else
                    {
                        batch.AddRejected(frame.Reason ?? "unframeable bytes", number);
                    }

                    if (batch.IsFull)
                    {
                        await batch.DispatchAsync(null, abort).ConfigureAwait(false);
                    }
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
                if (batch.HasPending && (result.IsCompleted || Available(socket) == 0))
                {
                    await batch.DispatchAsync(null, abort).ConfigureAwait(false);
                }

                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        finally
        {
            await batch.DispatchAsync(null, abort).ConfigureAwait(false);
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }

    private static int Available(Socket socket)
    {
        try
        {
            return socket.Available;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return 0;
        }
    }

    private sealed class Connection(IPAddress peer)
    {
        public IPAddress Peer { get; } = peer;

        public Task Task { get; set; } = Task.CompletedTask;
    }
}
