using System.Globalization;
using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Silo.Siem;

/// <summary>What a SIEM record is about.</summary>
public enum SiemRecordKind : byte
{
    /// <summary>A detector's finding.</summary>
    Finding = 0,

    /// <summary>A response action changed state (recorded, delivered, failed, restored, approved…).</summary>
    Action = 1,

    /// <summary>An identity's risk changed.</summary>
    Risk = 2,
}

/// <summary>An identity's risk before and after a finding.</summary>
/// <param name="IdentityId">The identity.</param>
/// <param name="Previous">Risk before.</param>
/// <param name="Current">Risk after.</param>
/// <param name="AsOfMs">Event time of the change.</param>
/// <param name="TriggerFindingId">The finding that changed it.</param>
public sealed record RiskChange(string IdentityId, double Previous, double Current, long AsOfMs, string TriggerFindingId);

/// <summary>The one internal record every SIEM encoder starts from: a finding, an action event or a risk change, with a
/// deterministic id receivers dedupe on.</summary>
public sealed record SiemRecord
{
    /// <summary>Deterministic id: <c>finding:{id}</c>, <c>action:{id}:{event}:{revision}</c>, <c>risk:{identity}:{finding}</c>.</summary>
    public required string Id { get; init; }

    /// <summary>What it is about.</summary>
    public required SiemRecordKind Kind { get; init; }

    /// <summary>When it happened, Unix ms (a finding: its bucket start; an action: the change; a risk: its event time).</summary>
    public required long TimeMs { get; init; }

    /// <summary>How urgent.</summary>
    public required Severity Severity { get; init; }

    /// <summary>Kind of the entity: <c>identity</c>, <c>node</c>, <c>connector</c>.</summary>
    public required string EntityKind { get; init; }

    /// <summary>The entity.</summary>
    public required string EntityId { get; init; }

    /// <summary>A short stable name of the event class (e.g. <c>finding robust_level bytes_out</c>, <c>action disable delivered</c>).</summary>
    public required string Name { get; init; }

    /// <summary>One sentence for people.</summary>
    public required string Message { get; init; }

    /// <summary>The finding, for <see cref="SiemRecordKind.Finding"/>.</summary>
    public Finding? Finding { get; init; }

    /// <summary>The action after the event (never with its token), for <see cref="SiemRecordKind.Action"/>.</summary>
    public ResponseAction? Action { get; init; }

    /// <summary>The action event (<c>recorded</c>, <c>delivered</c>…), for <see cref="SiemRecordKind.Action"/>.</summary>
    public string? ActionEvent { get; init; }

    /// <summary>Who caused the action event (policy, executor, a responder's key name).</summary>
    public string? Actor { get; init; }

    /// <summary>The risk change, for <see cref="SiemRecordKind.Risk"/>.</summary>
    public RiskChange? Risk { get; init; }

    /// <summary>The record of a finding.</summary>
    public static SiemRecord From(Finding f)
    {
        ArgumentNullException.ThrowIfNull(f);
        return new SiemRecord
        {
            Id = "finding:" + f.Id,
            Kind = SiemRecordKind.Finding,
            TimeMs = f.BucketStartMs,
            Severity = f.Severity,
            EntityKind = EntityKey.KindToName(f.EntityKind),
            EntityId = f.EntityId,
            Name = "finding " + f.Detector + " " + f.Feature,
            Message = f.Explanation,
            Finding = f,
        };
    }

    /// <summary>The record of an action event.</summary>
    public static SiemRecord From(ResponseAction a, string evt, string actor, string detail, long atMs)
    {
        ArgumentNullException.ThrowIfNull(a);
        var severity = evt switch
        {
            "failed" or "restore-failed" => Severity.High,
            "delivered" when !a.DryRun => Severity.High,
            "recorded" when a.State == ResponseActionState.PendingApproval => Severity.Medium,
            _ => Severity.Low,
        };
        return new SiemRecord
        {
            Id = string.Create(CultureInfo.InvariantCulture, $"action:{a.Id}:{evt}:{a.Revision}"),
            Kind = SiemRecordKind.Action,
            TimeMs = atMs,
            Severity = severity,
            EntityKind = "identity",
            EntityId = a.IdentityId,
            Name = "action " + Grains.Policy.ActionNames.Of(a.Kind) + " " + evt,
            Message = string.Create(CultureInfo.InvariantCulture,
                $"{Grains.Policy.ActionNames.Of(a.Kind)} of {a.IdentityId} via {a.Connector} (rule {a.Rule}) {evt} by {actor}: {detail}"),
            Action = a with { Token = null },
            ActionEvent = evt,
            Actor = actor,
        };
    }

    /// <summary>The record of a risk change.</summary>
    public static SiemRecord From(RiskChange r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var severity = r.Current >= 80 ? Severity.High : r.Current >= 50 ? Severity.Medium : r.Current >= 20 ? Severity.Low : Severity.Info;
        return new SiemRecord
        {
            Id = "risk:" + r.IdentityId + ":" + r.TriggerFindingId,
            Kind = SiemRecordKind.Risk,
            TimeMs = r.AsOfMs,
            Severity = severity,
            EntityKind = "identity",
            EntityId = r.IdentityId,
            Name = "risk change",
            Message = string.Create(CultureInfo.InvariantCulture, $"risk of {r.IdentityId} went from {r.Previous:0.0} to {r.Current:0.0}"),
            Risk = r,
        };
    }
}
