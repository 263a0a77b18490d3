using System.Net;
using System.Net.Sockets;

namespace AnomalyZT.Silo.Receivers.Syslog;

/// <summary>UDP: one datagram is one message (RFC 5426).</summary>
internal sealed partial class SyslogListener
{
    /// <summary>How long a datagram batch waits for admission before it is counted as refused: the sender cannot be
    /// pushed back, and while we wait the kernel's receive buffer fills.</summary>
    public static readonly TimeSpan DatagramGiveUp = TimeSpan.FromSeconds(1);

    private async Task ReceiveDatagramsAsync(CancellationToken stop, CancellationToken abort)
    {
        var buffer = GC.AllocateUninitializedArray<byte>(65536, pinned: true);
        var batches = new Dictionary<string, SyslogBatch>(StringComparer.Ordinal);
        var address = new SocketAddress(_socket.AddressFamily);
        var lastAddress = new SocketAddress(_socket.AddressFamily);
        string? lastShipper = null;
        var template = new IPEndPoint(_socket.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any, 0);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                int received;
                try
                {
                    received = await _socket.ReceiveFromAsync(buffer, SocketFlags.None, address, stop).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
                {
                    break;
                }
                catch (SocketException e)
                {
                    LogSocketError(Options.Name, e.SocketErrorCode); // e.g. an ICMP port-unreachable reported on the socket
                    continue;
                }

                // Senders rarely change: resolve the shipper once per source address, not per datagram.
                if (lastShipper is null || !address.Equals(lastAddress))
                {
                    var peer = ((IPEndPoint)template.Create(address)).Address;
                    lastShipper = Allowlist.Match(peer);
                    address.Buffer.Span[..address.Size].CopyTo(lastAddress.Buffer.Span);
                    lastAddress.Size = address.Size;
                    if (lastShipper is null)
                    {
                        RefuseUnknown(peer);
                    }
                }

                if (lastShipper is { } shipper && TakeGuarded(shipper, buffer.AsSpan(0, received), batches) is { IsFull: true } full)
                {
                    await DispatchDatagramsAsync(full, abort).ConfigureAwait(false);
                }

                if (Available(_socket) == 0)
                {
                    foreach (var pending in batches.Values)
                    {
                        await DispatchDatagramsAsync(pending, abort).ConfigureAwait(false);
                    }

                    CheckKernelDrops();
                }
            }
        }
        finally
        {
            foreach (var pending in batches.Values)
            {
                await DispatchDatagramsAsync(pending, abort).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Warns (at most once per interval) when the kernel dropped datagrams the listener could not read in time;
    /// they are in <c>anomalyzt.receiver.kernel_drops</c> either way.</summary>
    private void CheckKernelDrops()
    {
        if (_kernelDrops is not null && _kernelGate is not null && _kernelGate.TryEnter(out _) && _kernelDrops.TryTakeNew(out var added, out var total))
        {
            LogKernelDrops(Options.Name, added, total);
        }
    }

    /// <summary><see cref="Take"/>, but a datagram whose handling throws (a parser or mapper bug) is counted as rejected
    /// and logged (rate-limited, without its bytes) instead of ending the loop.</summary>
    private SyslogBatch? TakeGuarded(string shipper, ReadOnlySpan<byte> datagram, Dictionary<string, SyslogBatch> batches)
    {
        try
        {
            return Take(shipper, datagram, batches);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Stats.Count(Receiver, shipper, "syslog", 0, rejected: 1);
            if (_datagramFailureGate.TryEnter(out var suppressed))
            {
                LogDatagramFailed(e, Options.Name, suppressed);
            }

            return null;
        }
    }

    /// <summary>Adds one datagram to its shipper's batch (or counts it as limited); returns the batch, or null.</summary>
    private SyslogBatch? Take(string shipper, ReadOnlySpan<byte> datagram, Dictionary<string, SyslogBatch> batches)
    {
        if (!Limiter.TryAcquire(shipper, 1, out _))
        {
            Stats.Count(Receiver, shipper, "syslog", 0, limited: 1);
            return null;
        }

        if (!batches.TryGetValue(shipper, out var batch))
        {
            batches[shipper] = batch = new SyslogBatch(this, shipper);
        }
        else if (batch.IsFull)
        {
            // still full because its dispatch failed: it is retried, this datagram cannot be held
            Stats.Count(Receiver, shipper, "syslog", 0, refused: 1);
            return batch;
        }

        if (datagram.Length > Options.MaxMessageBytes)
        {
            batch.AddRejected($"datagram of {datagram.Length} bytes exceeds {Options.MaxMessageBytes}", 1, datagram);
        }
        else
        {
            batch.Add(datagram, 1);
        }

        return batch;
    }

    private async ValueTask DispatchDatagramsAsync(SyslogBatch batch, CancellationToken abort)
    {
        if (!batch.HasPending)
        {
            return;
        }

        var records = batch.Records;
        bool admitted;
        try
        {
            admitted = await batch.DispatchAsync(DatagramGiveUp, abort).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // the batch stays pending (SyslogBatch clears it only after a dispatch returns) and is tried again at the
            // next flush; its datagrams are counted then
            if (_datagramFailureGate.TryEnter(out var failures))
            {
                LogDatagramFailed(e, Options.Name, failures);
            }

            return;
        }

        if (!admitted && _refusedGate.TryEnter(out var suppressed))
        {
            LogDatagramsRefused(Options.Name, records, DatagramGiveUp, suppressed);
        }
    }
}
