using System.Text.Json;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Grains.Runtime;

namespace AnomalyZT.Silo.Runtime;

/// <summary>A compact JSON rendering of a normalized event for dead-letter payloads (no secrets: events carry none).</summary>
internal static class EventDescription
{
    public static byte[] ToJson(in RoutedEvent routed)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            var e = routed.Event;
            w.WriteStartObject();
            w.WriteString("entity"u8, routed.Key.ToString());
            w.WriteNumber("ts"u8, e.TimestampMs);
            switch (e.Kind)
            {
                case EventKind.Access:
                    w.WriteString("type"u8, "access"u8);
                    w.WriteString("principal"u8, e.Access.Principal);
                    w.WriteString("source_ip"u8, e.Access.SourceIp);
                    w.WriteString("action"u8, e.Access.Action);
                    w.WriteString("resource"u8, e.Access.Resource);
                    w.WriteNumber("bytes_out"u8, e.Access.BytesOut);
                    break;
                case EventKind.Flow:
                    w.WriteString("type"u8, "flow"u8);
                    w.WriteString("src_ip"u8, e.Flow.SrcIp);
                    w.WriteString("dst_ip"u8, e.Flow.DstIp);
                    w.WriteNumber("dst_port"u8, e.Flow.DstPort);
                    w.WriteNumber("orig_bytes"u8, e.Flow.OrigBytes);
                    w.WriteNumber("resp_bytes"u8, e.Flow.RespBytes);
                    break;
                case EventKind.Gpu:
                    w.WriteString("type"u8, "gpu"u8);
                    w.WriteString("node"u8, e.Gpu.Node);
                    w.WriteNumber("gpu"u8, e.Gpu.GpuIndex);
                    if (!double.IsNaN(e.Gpu.UtilPct))
                    {
                        w.WriteNumber("util"u8, e.Gpu.UtilPct);
                    }

                    break;
            }

            w.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
