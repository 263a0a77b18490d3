using AnomalyZT.Grains.Interfaces;

namespace AnomalyZT.Tests.Grains;

public sealed class EntityKeyTests
{
    [Fact]
    public void Fnv1a64_KnownVectors_Match()
    {
        // Published FNV-1a 64 test vectors.
        Assert.Equal(0xcbf29ce484222325UL, StableHashing.Fnv1a64(string.Empty));
        Assert.Equal(0xaf63dc4c8601ec8cUL, StableHashing.Fnv1a64("a"));
        Assert.Equal(0x85944171f73967e8UL, StableHashing.Fnv1a64("foobar"));
    }

    [Fact]
    public void Fnv1a64_LongNonAsciiText_EqualsHashOfUtf8Bytes()
    {
        var text = string.Concat(Enumerable.Repeat("ключ-🔑-", 40));
        Assert.Equal(StableHashing.Fnv1a64(System.Text.Encoding.UTF8.GetBytes(text)), StableHashing.Fnv1a64(text));
    }

    [Fact]
    public void Partition_SameKey_SameOnEveryCall_AndKindsDiffer()
    {
        var a = new EntityKey(EntityKind.Identity, "spiffe://cluster.local/ns/a/sa/b");
        Assert.Equal(a.Partition(64), new EntityKey(EntityKind.Identity, "spiffe://cluster.local/ns/a/sa/b").Partition(64));
        Assert.NotEqual(a.StableHash(), new EntityKey(EntityKind.Node, a.Id).StableHash());
        Assert.InRange(a.Partition(7), 0, 6);
    }

    [Fact]
    public void FindingId_SameInputs_SameId_DifferentBucket_DifferentId()
    {
        var a = Finding.ComputeId(EntityKind.Node, "gpu-1", "robust-level", "gpu_util", 600_000);
        Assert.Equal(a, Finding.ComputeId(EntityKind.Node, "gpu-1", "robust-level", "gpu_util", 600_000));
        Assert.NotEqual(a, Finding.ComputeId(EntityKind.Node, "gpu-1", "robust-level", "gpu_util", 1_200_000));
        Assert.Equal(32, a.Length);
    }
}
