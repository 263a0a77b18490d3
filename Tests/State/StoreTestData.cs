using AnomalyZT.Grains.Interfaces;
using AnomalyZT.Silo.State;

namespace AnomalyZT.Tests.State;

/// <summary>The data the state store tests commit: checkpoints, snapshots, dead letters and findings, all at
/// <see cref="StartMs"/> unless told otherwise.</summary>
internal static class StoreTestData
{
    /// <summary>The tests' clock starts here.</summary>
    internal const long StartMs = 1_700_000_000_000;

    /// <summary>One minute, the width of a finding's bucket.</summary>
    internal const long MinuteMs = 60_000;

    internal static Checkpoint Of(
        IReadOnlyList<GrainSnapshot>? snapshots = null,
        IReadOnlyList<Finding>? findings = null,
        IReadOnlyList<DeadLetter>? deadLetters = null) =>
        new(snapshots ?? [], findings ?? [], deadLetters ?? []);

    internal static GrainSnapshot Snapshot(
        string id, int partition, byte[] data, int version = 1, long updatedAtMs = StartMs, EntityKind kind = EntityKind.Identity) =>
        new(new EntityKey(kind, id), partition, version, data, updatedAtMs);

    internal static DeadLetter Letter(string source, byte[] payload, int line = 1) =>
        new(0, StartMs, source, line, "bad json", payload);

    /// <summary>Two identities, two nodes (one node shares an identity's id), two detectors, five buckets.</summary>
    internal static List<Finding> FilterDataset()
    {
        (EntityKind Kind, string Id)[] entities =
            [(EntityKind.Identity, "alice"), (EntityKind.Identity, "bob"), (EntityKind.Node, "gpu-01"), (EntityKind.Node, "alice")];
        string[] detectors = ["robust-level", "first-seen"];
        return
        [
            .. from entity in entities
               from detector in detectors
               from bucket in Enumerable.Range(0, 5)
               select NewFinding(entity.Kind, entity.Id, detector, StartMs + (bucket * MinuteMs)),
        ];
    }

    internal static Finding NewFinding(EntityKind kind, string entityId, string detector, long bucketStartMs, string feature = "bytes_out") => new()
    {
        Id = Finding.ComputeId(kind, entityId, detector, feature, bucketStartMs),
        EntityKind = kind,
        EntityId = entityId,
        Detector = detector,
        Feature = feature,
        BucketStartMs = bucketStartMs,
        BucketSeconds = 60,
        Observed = 1234.5,
        Expected = 100,
        Lower = 0,
        Upper = 300,
        Score = 7.25,
        PValue = 0.001,
        Severity = Severity.High,
        ConfigVersion = "cfg-1",
        BaselineCount = 37,
        Explanation = "bytes_out 1234.5 is far above the usual 100 (bounds 0..300, p=0.001).",
    };

    /// <summary>Disposes every store a test opened, in order.</summary>
    internal static async ValueTask DisposeAllAsync(IEnumerable<IAsyncDisposable> stores)
    {
        foreach (var store in stores)
        {
            await store.DisposeAsync();
        }
    }

    /// <summary>Deletes a test's temp folder and all in it, if it was created.</summary>
    internal static void DeleteDirectory(string directory)
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
