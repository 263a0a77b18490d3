using System.Text;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Grains.Runtime;

namespace AnomalyZT.Silo.Cluster;

/// <summary>What a partition message carries.</summary>
public enum PartitionMessageKind : byte
{
    /// <summary>Routed events of one ingest batch for one partition, with the batch's event-time high-water mark.</summary>
    Events = 1,

    /// <summary>Only the event-time high-water mark (moves the partition's clock).</summary>
    Tick = 2,

    /// <summary>Close every open bucket, checkpoint, and report under <see cref="PartitionMessage.Correlation"/>.</summary>
    CloseAll = 3,
}

/// <summary>One message on a partition queue.</summary>
/// <param name="Kind">What it carries.</param>
/// <param name="BatchId">Unique per published message: the partition skips a batch it already applied (redelivery after
/// a crash between checkpoint and ack).</param>
/// <param name="HighWaterMs">Newest event time of the ingest batch (all partitions' clocks move with it).</param>
/// <param name="Events">The routed events (empty unless <see cref="PartitionMessageKind.Events"/>).</param>
/// <param name="Correlation">For <see cref="PartitionMessageKind.CloseAll"/>: the id under which to report completion.</param>
public sealed record PartitionMessage(PartitionMessageKind Kind, string BatchId, long HighWaterMs, IReadOnlyList<RoutedEvent> Events, string Correlation = "");

/// <summary>The versioned binary form of partition messages (little-endian, length-prefixed UTF-8, nullable strings
/// flagged). Compact next to JSON, and every field round-trips exactly.</summary>
public static class BatchCodec
{
    private const byte Version = 1;

    /// <summary>Encodes a message.</summary>
    public static byte[] Encode(PartitionMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        using var stream = new MemoryStream(64 + (message.Events.Count * 96));
        using (var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true))
        {
            w.Write(Version);
            w.Write((byte)message.Kind);
            w.Write(message.BatchId);
            w.Write(message.HighWaterMs);
            w.Write(message.Correlation);
            w.Write(message.Events.Count);
            foreach (var e in message.Events)
            {
                Write(w, e);
            }
        }

        return stream.ToArray();
    }

    /// <summary>Decodes a message.</summary>
    /// <exception cref="InvalidDataException">Not a message this build can read.</exception>
    public static PartitionMessage Decode(ReadOnlyMemory<byte> body)
    {
        try
        {
            using var stream = new MemoryStream(body.ToArray(), writable: false);
            using var r = new BinaryReader(stream, Encoding.UTF8);
            var version = r.ReadByte();
            if (version != Version)
            {
                throw new InvalidDataException($"partition message version {version} is not known to this build (it reads {Version})");
            }

            var kind = (PartitionMessageKind)r.ReadByte();
            if (kind is < PartitionMessageKind.Events or > PartitionMessageKind.CloseAll)
            {
                throw new InvalidDataException($"partition message kind {(byte)kind} is unknown");
            }

            var batchId = r.ReadString();
            var high = r.ReadInt64();
            var correlation = r.ReadString();
            var count = r.ReadInt32();
            if (count < 0 || count > 10_000_000)
            {
                throw new InvalidDataException($"partition message claims {count} events");
            }

            var events = new RoutedEvent[count];
            for (var i = 0; i < count; i++)
            {
                events[i] = Read(r);
            }

            return new PartitionMessage(kind, batchId, high, events, correlation);
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException("partition message is truncated", ex);
        }
    }

    private static void Write(BinaryWriter w, in RoutedEvent e)
    {
        w.Write((byte)e.Key.Kind);
        w.Write(e.Key.Id);
        w.Write((byte)e.Role);
        var evt = e.Event;
        w.Write((byte)evt.Kind);
        switch (evt.Kind)
        {
            case EventKind.Access:
                var a = evt.Access;
                w.Write(a.TimestampMs);
                w.Write(a.Principal);
                w.Write((byte)a.PrincipalSource);
                Nullable(w, a.SourceIp);
                Nullable(w, a.UserAgent);
                Nullable(w, a.Action);
                Nullable(w, a.Resource);
                w.Write((byte)a.Outcome);
                w.Write(a.StatusCode);
                w.Write(a.BytesIn);
                w.Write(a.BytesOut);
                Nullable(w, a.Node);
                Nullable(w, a.SessionId);
                break; // the token never leaves ingest
            case EventKind.Flow:
                var f = evt.Flow;
                w.Write(f.TimestampMs);
                w.Write(f.SrcIp);
                w.Write(f.SrcPort);
                w.Write(f.DstIp);
                w.Write(f.DstPort);
                w.Write(f.Protocol);
                w.Write(f.OrigBytes);
                w.Write(f.RespBytes);
                w.Write(f.Packets);
                w.Write(f.DurationMs);
                Nullable(w, f.Exporter);
                break;
            case EventKind.Gpu:
                var g = evt.Gpu;
                w.Write(g.TimestampMs);
                w.Write(g.Node);
                Nullable(w, g.GpuUuid);
                w.Write(g.GpuIndex);
                w.Write(g.UtilPct);
                w.Write(g.MemUsedMiB);
                w.Write(g.PowerW);
                Nullable(w, g.Pod);
                Nullable(w, g.Namespace);
                break;
            default:
                throw new ArgumentException($"event kind {evt.Kind} cannot be encoded", nameof(e));
        }
    }

    private static RoutedEvent Read(BinaryReader r)
    {
        var key = new EntityKey((EntityKind)r.ReadByte(), r.ReadString());
        var role = (EventRole)r.ReadByte();
        var kind = (EventKind)r.ReadByte();
        EngineEvent evt = kind switch
        {
            EventKind.Access => EngineEvent.From(new AccessEvent(
                r.ReadInt64(), r.ReadString(), (PrincipalSource)r.ReadByte(), Nullable(r), Nullable(r), Nullable(r), Nullable(r),
                (Outcome)r.ReadByte(), r.ReadInt32(), r.ReadInt64(), r.ReadInt64(), Nullable(r), Nullable(r))),
            EventKind.Flow => EngineEvent.From(new FlowEvent(
                r.ReadInt64(), r.ReadString(), r.ReadInt32(), r.ReadString(), r.ReadInt32(), r.ReadByte(), r.ReadInt64(), r.ReadInt64(),
                r.ReadInt64(), r.ReadInt64(), Nullable(r))),
            EventKind.Gpu => EngineEvent.From(new GpuSample(
                r.ReadInt64(), r.ReadString(), Nullable(r), r.ReadInt32(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble(), Nullable(r), Nullable(r))),
            _ => throw new InvalidDataException($"event kind {(byte)kind} is unknown"),
        };
        return new RoutedEvent(key, role, evt);
    }

    private static void Nullable(BinaryWriter w, string? value)
    {
        w.Write(value is not null);
        if (value is not null)
        {
            w.Write(value);
        }
    }

    private static string? Nullable(BinaryReader r) => r.ReadBoolean() ? r.ReadString() : null;
}
