using System.Globalization;

namespace AnomalyZT.Silo.State.Postgres;

/// <summary>What a checkpoint must carry before anything of it is written; the messages match the SQLite store's.</summary>
internal static class CheckpointRules
{
    /// <summary>The first missing required value in <paramref name="checkpoint"/>, described for the caller, or null.</summary>
    internal static string? FindMissingValue(Checkpoint checkpoint)
    {
        if (checkpoint.Snapshots is null || checkpoint.Findings is null || checkpoint.DeadLetters is null)
        {
            return "Checkpoint.Snapshots, Findings and DeadLetters must not be null; pass an empty list instead.";
        }

        for (var i = 0; i < checkpoint.Snapshots.Count; i++)
        {
            var s = checkpoint.Snapshots[i];
            var member = s is null ? string.Empty : s.Key.Id is null ? "Key.Id" : s.Data is null ? "Data" : null;
            if (member is not null)
            {
                return Missing("Snapshots", i, member);
            }
        }

        for (var i = 0; i < checkpoint.Findings.Count; i++)
        {
            var f = checkpoint.Findings[i];
            var member = f is null ? string.Empty : f.Id is null ? "Id" : f.EntityId is null ? "EntityId"
                : f.Detector is null ? "Detector" : f.Feature is null ? "Feature" : null;
            if (member is not null)
            {
                return Missing("Findings", i, member);
            }
        }

        for (var i = 0; i < checkpoint.DeadLetters.Count; i++)
        {
            var d = checkpoint.DeadLetters[i];
            var member = d is null ? string.Empty : d.Source is null ? "Source" : d.Reason is null ? "Reason"
                : d.Payload is null ? "Payload" : null;
            if (member is not null)
            {
                return Missing("DeadLetters", i, member);
            }
        }

        return null;
    }

    /// <summary>True when the checkpoint writes nothing.</summary>
    internal static bool IsEmpty(Checkpoint checkpoint) =>
        checkpoint.Snapshots.Count == 0 && checkpoint.Findings.Count == 0 && checkpoint.DeadLetters.Count == 0;

    private static string Missing(string list, int index, string member) => member.Length == 0
        ? string.Create(CultureInfo.InvariantCulture, $"Checkpoint.{list}[{index}] is null; nothing was written.")
        : string.Create(CultureInfo.InvariantCulture, $"Checkpoint.{list}[{index}].{member} is null; it is required, so nothing was written.");
}
