using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Grains.Runtime;

/// <summary>What part an event plays for the grain it is routed to.</summary>
public enum EventRole : byte
{
    /// <summary>An access by the identity.</summary>
    Access = 1,

    /// <summary>A flow the node originated.</summary>
    FlowSource = 2,

    /// <summary>A flow the node answered.</summary>
    FlowDestination = 3,

    /// <summary>A sample of the node's GPUs.</summary>
    Gpu = 4,
}

/// <summary>An event addressed to one grain. A flow between two known nodes becomes two routed events.</summary>
/// <param name="Key">The grain.</param>
/// <param name="Role">What the event is to that grain.</param>
/// <param name="Event">The event.</param>
public readonly record struct RoutedEvent(EntityKey Key, EventRole Role, EngineEvent Event);
