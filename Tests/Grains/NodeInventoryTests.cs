using AnomalyZT.Grains.Runtime;

namespace AnomalyZT.Tests.Grains;

public sealed class NodeInventoryTests
{
    [Fact]
    public void Resolve_LongestPrefixWins()
    {
        var inv = new NodeInventory([
            new InventoryEntry { Cidr = "10.0.0.0/16", Node = "dc" },
            new InventoryEntry { Cidr = "10.0.3.0/24", Node = "gpu-rack-3" },
            new InventoryEntry { Cidr = "10.0.3.17", Node = "gpu-node-17" },
        ]);
        Assert.Equal("gpu-node-17", inv.Resolve("10.0.3.17"));
        Assert.Equal("gpu-rack-3", inv.Resolve("10.0.3.18"));
        Assert.Equal("dc", inv.Resolve("10.0.9.1"));
        Assert.Null(inv.Resolve("192.0.2.1"));
        Assert.Null(inv.Resolve("not-an-ip"));
    }

    [Fact]
    public void Resolve_EmptyInventory_PrivateAddressesAreTheirOwnNodes()
    {
        var inv = new NodeInventory([]);
        Assert.Equal("10.1.2.3", inv.Resolve("10.1.2.3"));
        Assert.Equal("192.168.0.9", inv.Resolve("::ffff:192.168.0.9"));
        Assert.Null(inv.Resolve("8.8.8.8"));
    }

    [Fact]
    public void Constructor_BadCidr_NamesTheEntry()
    {
        var ex = Assert.Throws<ArgumentException>(() => new NodeInventory([new InventoryEntry { Cidr = "10.0.0.0/33", Node = "x" }]));
        Assert.Contains("Inventory[0].Cidr is '10.0.0.0/33'", ex.Message, StringComparison.Ordinal);
    }
}
