using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Grains.Runtime;

/// <summary>Turns normalized events into events addressed to grains: an access to its principal, a flow to the
/// nodes at either end that the inventory knows, a GPU sample to its host.</summary>
public sealed class EventRouter(NodeInventory inventory)
{
    /// <summary>Writes the routed events of <paramref name="e"/> into <paramref name="output"/> (room for two)
    /// and returns how many; 0 means no grain owns the event (a flow between unknown addresses).</summary>
    public int Route(in EngineEvent e, Span<RoutedEvent> output)
    {
        switch (e.Kind)
        {
            case EventKind.Access:
                output[0] = new RoutedEvent(new EntityKey(EntityKind.Identity, e.Access.Principal), EventRole.Access, e);
                return 1;
            case EventKind.Gpu:
                output[0] = new RoutedEvent(new EntityKey(EntityKind.Node, e.Gpu.Node), EventRole.Gpu, e);
                return 1;
            case EventKind.Flow:
            {
                var n = 0;
                if (inventory.Resolve(e.Flow.SrcIp) is { } src)
                {
                    output[n++] = new RoutedEvent(new EntityKey(EntityKind.Node, src), EventRole.FlowSource, e);
                }

                if (inventory.Resolve(e.Flow.DstIp) is { } dst)
                {
                    output[n++] = new RoutedEvent(new EntityKey(EntityKind.Node, dst), EventRole.FlowDestination, e);
                }

                return n;
            }

            default:
                return 0;
        }
    }
}
