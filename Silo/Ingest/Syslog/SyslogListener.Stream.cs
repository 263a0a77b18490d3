using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using AnomalyZT.Ingest.Syslog;

namespace AnomalyZT.Silo.Receivers.Syslog;

/// <summary>TCP and TLS: accept loop and one reader per connection.</summary>
internal sealed partial class SyslogListener
{
    private static readonly TimeSpan MaxHandshakeTime = TimeSpan.FromSeconds(30);

    private readonly HashSet<Connection> _open = [];

    private async Task AcceptAsync(CancellationToken stop, CancellationToken abort)
    {
        var tls = Options.Protocol == SyslogProtocol.Tls ? TlsOptions() : null;
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

            var connection = new Connection();
            lock (_open)
            {
                if (_open.Count >= Options.MaxConnections)
                {
                    connection = null;
                }
                else
                {
                    _open.Add(connection);
                }
            }

            if (connection is null)
            {
                Stats.Count(Receiver, ConnectionLimit, "syslog", 0, refused: 1);
                if (_limitGate.TryEnter(out var suppressed))
                {
                    LogConnectionLimit(Options.Name, Options.MaxConnections, suppressed);
                }

                socket.Dispose();
                continue;
            }

            connection.Task = ServeTrackedAsync(connection, socket, tls, stop, abort);
        }

        Task[] running;
        lock (_open)
        {
            running = [.. _open.Select(c => c.Task)];
        }

        await Task.WhenAll(running).ConfigureAwait(false);
    }

    private async Task ServeTrackedAsync(Connection connection, Socket socket, SslServerAuthenticationOptions? tls, CancellationToken stop, CancellationToken abort)
    {
        await Task.Yield();
        try
        {
            await ServeAsync(socket, tls, stop, abort).ConfigureAwait(false);
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
            }
        }
    }

    private async Task ServeAsync(Socket socket, SslServerAuthenticationOptions? tls, CancellationToken stop, CancellationToken abort)
    {
        var peer = ((IPEndPoint)socket.RemoteEndPoint!).Address;
        var shipper = Allowlist.Count > 0 ? Allowlist.Match(peer) : null;
        if (shipper is null && (Options.Protocol == SyslogProtocol.Tcp || Allowlist.Count > 0))
        {
            RefuseUnknown(peer);
            socket.Dispose();
            return;
        }

        socket.NoDelay = true;
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        await using (stream.ConfigureAwait(false))
        {
            if (tls is not null)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
                stream = ssl;
                shipper = await AuthenticateAsync(ssl, tls, peer, stop).ConfigureAwait(false);
                if (shipper is null)
                {
                    return;
                }
            }

            await ReadAsync(socket, stream, new SyslogBatch(this, shipper!), stop, abort).ConfigureAwait(false);
        }
    }

    /// <summary>The TLS handshake; returns the shipper named by the client certificate, or null when refused.</summary>
    private async Task<string?> AuthenticateAsync(SslStream ssl, SslServerAuthenticationOptions tls, IPAddress peer, CancellationToken stop)
    {
        using var timeout = new CancellationTokenSource(Options.IdleTimeout < MaxHandshakeTime ? Options.IdleTimeout : MaxHandshakeTime, Time);
        using var stopping = stop.Register(static s => ((CancellationTokenSource)s!).Cancel(), timeout);
        string reason;
        try
        {
            await ssl.AuthenticateAsServerAsync(tls, timeout.Token).ConfigureAwait(false);
            if (ssl.RemoteCertificate is X509Certificate2 certificate)
            {
                var cn = certificate.GetNameInfo(X509NameType.SimpleName, forIssuer: false);
                if (!string.IsNullOrEmpty(cn))
                {
                    return Options.Tls.ClientNames.TryGetValue(cn, out var name) ? name : cn;
                }
            }

            reason = "the client certificate has no subject CN";
        }
        catch (AuthenticationException e)
        {
            reason = e.Message;
        }
        catch (IOException e)
        {
            reason = e.Message;
        }
        catch (OperationCanceledException)
        {
            if (stop.IsCancellationRequested)
            {
                return null;
            }

            reason = "no TLS handshake within the time limit";
        }

        Stats.Count(Receiver, Unauthenticated, "syslog", 0, rejected: 1);
        if (_tlsGate.TryEnter(out var suppressed))
        {
            LogTlsRefused(Options.Name, peer, reason, suppressed);
        }

        return null;
    }

    /// <summary>Frames, parses and dispatches until the peer closes, goes idle or the listener stops. A batch is
    /// dispatched when full or when the socket has nothing more to read right now; while it waits for the rate limit or
    /// for admission nothing is read, so TCP flow control pushes back on the sender.</summary>
    private async Task ReadAsync(Socket socket, Stream stream, SyslogBatch batch, CancellationToken stop, CancellationToken abort)
    {
        var reader = PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64 * 1024, minimumReadSize: 4096, leaveOpen: true));
        var framing = new SyslogFraming(Options.MaxMessageBytes);
        using var idle = new CancellationTokenSource(Timeout.InfiniteTimeSpan, Time);
        using var stopping = stop.Register(static s => ((CancellationTokenSource)s!).Cancel(), idle);
        long number = 0;
        try
        {
            while (true)
            {
                idle.CancelAfter(Options.IdleTimeout);
                ReadResult result;
                try
                {
                    result = await reader.ReadAsync(idle.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or IOException)
                {
                    break; // idle, stopping, or the peer reset the connection
                }

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

    private sealed class Connection
    {
        public Task Task { get; set; } = Task.CompletedTask;
    }
}
