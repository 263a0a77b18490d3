using AnomalyZT.Grains.Features;
using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Grains.Runtime;

namespace AnomalyZT.Grains;

/// <summary>A per-entity grain. Activated and driven only by its partition's worker (one thread of control),
/// so implementations hold no locks. No runtime base class: an Orleans or other host can drive the same code.</summary>
public interface IGrain
{
    /// <summary>The entity.</summary>
    EntityKey Key { get; }

    /// <summary>Its features.</summary>
    EntityFeatures Features { get; }

    /// <summary>Applies one routed event (already checked against the watermark).</summary>
    void Apply(in RoutedEvent routed);
}
